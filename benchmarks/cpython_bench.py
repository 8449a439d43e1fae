"""CPython side of `Multiprocessing.Benchmarks -- compare`: prints one JSON object on stdout.

start→join of a no-op child per start method (median, warm-up excluded) and the memory of an
idle child (RSS/PSS/private dirty from /proc/<pid>/smaps_rollup, KiB).
"""
import json
import multiprocessing as mp
import statistics
import sys
import time


def noop():
    pass


def idle(ready):
    ready.set()
    time.sleep(60)


def smaps_rollup(pid):
    out = {}
    with open(f"/proc/{pid}/smaps_rollup") as f:
        for line in f:
            parts = line.split()
            if len(parts) >= 3 and parts[2] == "kB":
                out[parts[0].rstrip(":")] = int(parts[1])
    return {"rss": out.get("Rss"), "pss": out.get("Pss"),
            "private_dirty": out.get("Private_Dirty")}


def start_join_ms(ctx, reps, warmup):
    times = []
    for i in range(warmup + reps):
        t0 = time.perf_counter()
        p = ctx.Process(target=noop)
        p.start()
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


def main():
    reps = 30
    if "--reps" in sys.argv:
        reps = int(sys.argv[sys.argv.index("--reps") + 1])
    result = {"version": sys.version.split()[0], "start_join_ms": {}, "memory_kib": {}}
    for method in ("spawn", "forkserver", "fork"):
        if method not in mp.get_all_start_methods():
            continue
        ctx = mp.get_context(method)
        # forkserver's first start also starts the server: keep it out of the median.
        result["start_join_ms"][method] = start_join_ms(ctx, reps, warmup=2)
        result["memory_kib"][method] = idle_memory(ctx)
    json.dump(result, sys.stdout)
    print()


if __name__ == "__main__":
    main()
