"""CPython side of `Multiprocessing.Benchmarks -- compare`: prints one JSON object on stdout.

start→join of a no-op child per start method (median, warm-up excluded), the first such
start of a fresh interpreter (`first`: from before `import multiprocessing` to the join, each
in a new python process), of a burst of
BURST no-op children started together and then joined, the memory of an
idle child (RSS/PSS/private dirty from /proc/<pid>/smaps_rollup, KiB), and Pipe round-trips
parent↔child: a small object with send/recv (µs) and 16 MiB with send_bytes/recv_bytes (MiB/s,
the payload size over the round-trip time).

`echo-batches METHOD` keeps one such Pipe pair and runs a round-trip batch per stdin line, so
the .NET runner can alternate its batches with CPython's (see echo_batches).
"""
import json
import statistics
import subprocess
import sys
import time

if __name__ == "__main__" and sys.argv[1:2] == ["first"]:
    # A fresh program's first child: the import is part of what it pays, so the clock starts
    # before it. The runner's own imports above are not timed, and whatever multiprocessing
    # shares with them is already loaded: if anything, CPython's figure comes out low.
    FIRST_T0 = time.perf_counter()

import multiprocessing as mp


def noop():
    pass


def idle(ready):
    ready.set()
    time.sleep(60)


SMALL = (1, "hello", 2.5, [1, 2, 3], {"k": True})
BIG = 16 * 1024 * 1024
SMALL_BATCH = 200


def echo(conn):
    """Echoes objects (kind "o") or bytes (kind "b") until told to stop."""
    while True:
        kind = conn.recv_bytes()
        if kind == b"o":
            conn.send(conn.recv())
        elif kind == b"b":
            conn.send_bytes(conn.recv_bytes())
        else:
            return


def small_batch(parent):
    """SMALL_BATCH small-object round-trips; µs per round-trip."""
    t0 = time.perf_counter()
    for _ in range(SMALL_BATCH):
        parent.send_bytes(b"o")
        parent.send(SMALL)
        parent.recv()
    return (time.perf_counter() - t0) * 1e6 / SMALL_BATCH


def big_once(parent, payload):
    """One 16 MiB round-trip; MiB/s."""
    t0 = time.perf_counter()
    parent.send_bytes(b"b")
    parent.send_bytes(payload)
    got = parent.recv_bytes()
    dt = time.perf_counter() - t0
    assert len(got) == BIG
    return 16 / dt


def echo_pair(ctx):
    parent, child = ctx.Pipe()
    p = ctx.Process(target=echo, args=(child,))
    p.start()
    child.close()
    return parent, p


def end_pair(parent, p):
    try:
        parent.send_bytes(b"q")
    finally:
        p.join(30)
        if p.is_alive():
            p.kill()
            p.join()


def round_trips(ctx, reps, warmup):
    parent, p = echo_pair(ctx)
    try:
        small = [small_batch(parent) for _ in range(warmup + reps)][warmup:]
        payload = bytes(BIG)
        big = [big_once(parent, payload) for _ in range(warmup + reps)][warmup:]
        return {"small_rt_us": statistics.median(small), "big_mib_s": statistics.median(big)}
    finally:
        end_pair(parent, p)


def echo_batches(method):
    """Round-trips on command, so the .NET runner can interleave its batches with CPython's and
    compare the two over the same stretch of the machine's time: each stdin line "small" runs
    one small_batch, "big" one big_once, and the figure is printed on its own line; EOF ends."""
    parent, p = echo_pair(mp.get_context(method))
    payload = bytes(BIG)
    try:
        for line in sys.stdin:
            value = small_batch(parent) if line.strip() == "small" else big_once(parent, payload)
            print(value, flush=True)
    finally:
        end_pair(parent, p)


def smaps_rollup(pid):
    out = {}
    with open(f"/proc/{pid}/smaps_rollup") as f:
        for line in f:
            parts = line.split()
            if len(parts) >= 3 and parts[2] == "kB":
                out[parts[0].rstrip(":")] = int(parts[1])
    return {"rss": out.get("Rss"), "pss": out.get("Pss"),
            "private_dirty": out.get("Private_Dirty")}


BURST = 4


def start_join_ms(ctx, reps, warmup, count=1):
    """Median ms to start `count` no-op children one after another, then join them all."""
    times = []
    for i in range(warmup + reps):
        t0 = time.perf_counter()
        ps = [ctx.Process(target=noop) for _ in range(count)]
        for p in ps:
            p.start()
        for p in ps:
            p.join()
        t1 = time.perf_counter()
        if i >= warmup:
            times.append((t1 - t0) * 1000)
    return statistics.median(times)


def idle_memory(ctx):
    ready = ctx.Event()
    p = ctx.Process(target=idle, args=(ready,), daemon=True)
    p.start()
    try:
        if not ready.wait(30):
            return None
        time.sleep(0.2)  # let the child settle into its sleep
        return smaps_rollup(p.pid)
    finally:
        p.kill()
        p.join(10)


FIRST_REPS = 10


def first_start_ms(method, reps):
    """Median over fresh interpreters of `first`: import, first start and join of a no-op child."""
    times = []
    for _ in range(reps):
        out = subprocess.run([sys.executable, __file__, "first", method], capture_output=True, text=True, timeout=120, check=True)
        times.append(float(out.stdout.strip()))
    return statistics.median(times)


def first(method):
    ctx = mp.get_context(method)
    p = ctx.Process(target=noop)
    p.start()
    p.join()
    print((time.perf_counter() - FIRST_T0) * 1000)


def main():
    if sys.argv[1:2] == ["first"]:
        first(sys.argv[2])
        return
    if sys.argv[1:2] == ["echo-batches"]:
        echo_batches(sys.argv[2])
        return
    reps = 30
    if "--reps" in sys.argv:
        reps = int(sys.argv[sys.argv.index("--reps") + 1])
    result = {"version": sys.version.split()[0], "start_join_ms": {}, "first_start_ms": {}, "burst_join_ms": {}, "memory_kib": {}, "pipe": {}}
    for method in ("spawn", "forkserver", "fork"):
        if method not in mp.get_all_start_methods():
            continue
        ctx = mp.get_context(method)
        # forkserver's first start also starts the server: keep it out of the median.
        result["start_join_ms"][method] = start_join_ms(ctx, reps, warmup=2)
        result["first_start_ms"][method] = first_start_ms(method, min(reps, FIRST_REPS))
        result["burst_join_ms"][method] = start_join_ms(ctx, reps, warmup=2, count=BURST)
        result["memory_kib"][method] = idle_memory(ctx)
        result["pipe"][method] = round_trips(ctx, reps, warmup=2)
    json.dump(result, sys.stdout)
    print()


if __name__ == "__main__":
    main()
