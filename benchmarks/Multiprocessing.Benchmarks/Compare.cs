using System.Globalization;
using System.Runtime.InteropServices;
using System.Text.Json;

namespace Multiprocessing.Benchmarks;

/// <summary>One table row: ours, then the six CPython cells (3.11 then 3.13; spawn, forkserver, fork), then the ratio.</summary>
internal sealed record Row(string Figure, string Ours, string[] CPython, string Ratio);

/// <summary>
/// `compare`: one markdown table of our figures beside CPython's, all measured in this run.
/// A new figure is one more <see cref="Row"/> (see the Connections rows at the end).
/// </summary>
internal static class Compare
{
    private static readonly string[] Methods = ["spawn", "forkserver", "fork"];
    private static readonly (string Label, string? Pyenv)[] Pythons = [("3.11", null), ("3.13", "3.13.0")];

    public static int Run(int reps)
    {
        int warmup = Math.Max(1, Math.Min(3, reps / 5));
        ProcessContext spawn = Context.Get("spawn");
        var rows = new List<Row>();

        // CPython first: it runs its own children and must not overlap with ours.
        var py = new List<(string Label, JsonElement? Result, string Why)>();
        foreach ((string label, string? pyenv) in Pythons)
        {
            (JsonElement? result, string why) = Measure.CPython(pyenv, reps);
            py.Add((label, result, why));
        }

        (double ours, double hello, double paired) = Measure.TimeInterleaved(reps, warmup, () => Measure.OurNoOp(spawn), Measure.HelloOnce);
        string[] pyStart = PyCells(py, r => r.GetProperty("start_join_ms"), v => Ms(v.GetDouble()));
        double? py311Spawn = PyValue(py, 0, "spawn", r => r.GetProperty("start_join_ms"), v => v.GetDouble());
        double forkServer = ForkServerNoOp(reps, warmup);
        double? py311Fork = PyValue(py, 0, "fork", r => r.GetProperty("start_join_ms"), v => v.GetDouble());
        rows.Add(new Row("start→join, no-op child (ms)", $"{Ms(ours)} (spawn); {Ms(forkServer)} (forkserver)", pyStart,
            $"spawn {paired:F2}× dotnet floor (median of the pairs' ratios; {ours / hello:F2}× of the medians)" + (py311Spawn is { } s ? $", {ours / s:F2}× CPython 3.11 spawn" : "") +
            (py311Fork is { } f ? $"; forkserver {forkServer / f:F2}× CPython 3.11 fork" : "")));
        rows.Add(new Row("bare `dotnet exec` hello-world start→exit (ms)", Ms(hello), Empty(), "the floor for a cold .NET child"));
        double spawnEntry = TargetEntry(spawn, reps, warmup, waitForSpare: null);
        double forkServerEntry = TargetEntry(Context.Get("forkserver"), reps, warmup, waitForSpare: SpareReady);
        rows.Add(new Row("Start()→first line of the target (ms)", $"{Ms(spawnEntry)} (spawn); {forkServerEntry.ToString("F2", CultureInfo.InvariantCulture)} (forkserver)", NA(),
            "forkserver target: ≤ 0.5 ms"));

        int firstReps = Math.Min(reps, FirstStart.MaxReps);
        double spawnFirst = FirstStart.Median("spawn", firstReps);
        double forkServerFirst = FirstStart.Median("forkserver", firstReps);
        double? py311SpawnFirst = PyValue(py, 0, "spawn", r => r.GetProperty("first_start_ms"), v => v.GetDouble());
        double? py311FsFirst = PyValue(py, 0, "forkserver", r => r.GetProperty("first_start_ms"), v => v.GetDouble());
        rows.Add(new Row("a fresh program's first start→join, library load included (ms)", $"{Ms(spawnFirst)} (spawn); {Ms(forkServerFirst)} (forkserver)",
            PyCells(py, r => r.GetProperty("first_start_ms"), v => Ms(v.GetDouble())),
            (py311SpawnFirst is { } sf ? $"spawn {spawnFirst / sf:F2}× CPython 3.11 spawn (with `import multiprocessing`)" : "") +
            (py311FsFirst is { } ff ? $"; forkserver {forkServerFirst / ff:F2}× CPython 3.11 forkserver" : "")));

        (Memory ourMem, Memory helloMem, Memory consoleMem, int neighbours) = Measure.IdleTrio(spawn);
        foreach ((string name, Func<Memory, long> pick, string key) in new (string, Func<Memory, long>, string)[]
                 {
                     ("RSS", m => m.Rss, "rss"), ("PSS", m => m.Pss, "pss"), ("private dirty", m => m.PrivateDirty, "private_dirty"),
                 })
        {
            string[] cells = PyCells(py, r => r.GetProperty("memory_kib"), v => v.ValueKind == JsonValueKind.Null ? "n/a" : Mib(v.GetProperty(key).GetInt64()));
            double? pySpawnMem = PyValue(py, 0, "spawn", r => r.GetProperty("memory_kib"), v => (double)v.GetProperty(key).GetInt64());
            rows.Add(new Row($"idle child {name} (MiB)",
                $"{Mib(pick(ourMem))} (bare dotnet: {Mib(pick(helloMem))} sleeping, {Mib(pick(consoleMem))} on Console.ReadLine)", cells,
                $"{(double)pick(ourMem) / pick(helloMem):F2}× bare sleeping, {(double)pick(ourMem) / pick(consoleMem):F2}× bare on ReadLine" +
                (pySpawnMem is { } m ? $"; {pick(ourMem) / m:F2}× CPython 3.11 spawn" : "")));
        }

        // The same echo protocol as cpython_bench.py, against a spawn child (the method does not
        // change a steady-state round-trip; CPython's cells show it per method). The ratio is
        // against CPython 3.11 fork's batches run in alternation with ours (PipeRoundTrip), not
        // against the cells, which were measured minutes apart from our figure.
        PipeRoundTrip.Result pipe = PipeRoundTrip.Measure(spawn, reps, warmup);
        rows.Add(new Row("small-object Send/Recv round-trip (µs)", Ms(pipe.SmallMicroseconds),
            PyCells(py, r => r.GetProperty("pipe"), v => Ms(v.GetProperty("small_rt_us").GetDouble())),
            pipe.PySmallMicroseconds is { } ps
                ? $"{pipe.SmallMicroseconds / ps:F2}× CPython 3.11 fork in alternating batches ({Ms(ps)}; lower is better)" : pipe.PyWhy));
        rows.Add(new Row("16 MiB SendBytes/RecvBytes round-trip (MiB/s)", Ms(pipe.BigMibPerSecond),
            PyCells(py, r => r.GetProperty("pipe"), v => Ms(v.GetProperty("big_mib_s").GetDouble())),
            pipe.PyBigMibPerSecond is { } pb
                ? $"{pipe.BigMibPerSecond / pb:F2}× CPython 3.11 fork in alternating round-trips ({Ms(pb)}; higher is better)" : pipe.PyWhy));

        // Last: a burst leaves the forkserver with more idle spares, which would share the
        // runtime's pages with the idle child measured above and so lower its PSS.
        double spawnBurst = Burst(spawn, reps, warmup, waitForSpares: null);
        double forkServerBurst = Burst(Context.Get("forkserver"), reps, warmup, waitForSpares: () => SparesReady(BurstSize));
        double? py311FsBurst = PyValue(py, 0, "forkserver", r => r.GetProperty("burst_join_ms"), v => v.GetDouble());
        double? py311ForkBurst = PyValue(py, 0, "fork", r => r.GetProperty("burst_join_ms"), v => v.GetDouble());
        rows.Insert(2, new Row($"start→join, {BurstSize} no-op children started together (ms)", $"{Ms(spawnBurst)} (spawn); {Ms(forkServerBurst)} (forkserver)",
            PyCells(py, r => r.GetProperty("burst_join_ms"), v => Ms(v.GetDouble())),
            (py311FsBurst is { } fb ? $"forkserver {forkServerBurst / fb:F2}× CPython 3.11 forkserver" : "") +
            (py311ForkBurst is { } kb ? $", {forkServerBurst / kb:F2}× CPython 3.11 fork" : "")));

        Print(rows, py, reps, warmup, neighbours);
        return 0;
    }

    /// <summary>The forkserver figures of the table, without the rest.</summary>
    public static int RunForkServer(int reps)
    {
        int warmup = Math.Max(1, Math.Min(3, reps / 5));
        ProcessContext ctx = Context.Get("forkserver");
        double entry = TargetEntry(ctx, reps, warmup, waitForSpare: SpareReady);
        double join = ForkServerNoOp(reps, warmup);
        double burst = Burst(ctx, reps, warmup, waitForSpares: () => SparesReady(BurstSize));
        Console.WriteLine($"forkserver Start()→first line: {entry:F2} ms; start→join, no-op child: {join:F2} ms; {BurstSize} together: {burst:F2} ms " +
                          $"(medians of {reps}; load average {LoadAverage()})");
        return 0;
    }

    private static string Ms(double ms) => ms.ToString("F1", CultureInfo.InvariantCulture);
    private static string Mib(long kib) => (kib / 1024.0).ToString("F1", CultureInfo.InvariantCulture);
    private static string[] Empty() => [.. Enumerable.Repeat("", 6)];
    private static string[] NA() => [.. Enumerable.Repeat("n/a", 6)];

    private static string[] PyCells(List<(string Label, JsonElement? Result, string Why)> py,
                                    Func<JsonElement, JsonElement> section, Func<JsonElement, string> format)
    {
        var cells = new List<string>();
        foreach ((_, JsonElement? result, string why) in py)
            foreach (string method in Methods)
                cells.Add(result is not { } r ? why
                        : section(r).TryGetProperty(method, out JsonElement v) ? format(v) : "n/a (method unavailable)");
        return [.. cells];
    }

    private static double? PyValue(List<(string Label, JsonElement? Result, string Why)> py, int index, string method,
                                   Func<JsonElement, JsonElement> section, Func<JsonElement, double> pick) =>
        py[index].Result is { } r && section(r).TryGetProperty(method, out JsonElement v) && v.ValueKind != JsonValueKind.Null ? pick(v) : null;

    private static void Print(List<Row> rows, List<(string Label, JsonElement? Result, string Why)> py, int reps, int warmup, int neighbours)
    {
        var header = new List<string> { "figure", "ours" };
        foreach ((string label, JsonElement? result, _) in py)
        {
            string version = result is { } r ? r.GetProperty("version").GetString()! : label;
            header.AddRange(Methods.Select(m => $"CPython {version} {m}"));
        }
        header.Add("ratio");
        Console.WriteLine("| " + string.Join(" | ", header) + " |");
        Console.WriteLine("|" + string.Concat(header.Select(_ => "---|")));
        foreach (Row row in rows)
            Console.WriteLine("| " + string.Join(" | ", [row.Figure, row.Ours, .. row.CPython, row.Ratio]) + " |");
        Console.WriteLine();
        Console.WriteLine($"Medians over {reps} repetitions after {warmup} warm-up (small-object round-trips: after " +
                          $"{PipeRoundTrip.SmallWarmUp.TotalSeconds:F1} s of warm-up batches); {Environment.ProcessorCount} cores; " +
                          $"{RuntimeInformation.FrameworkDescription}; {RuntimeInformation.OSDescription}; " +
                          $"{DateTime.UtcNow:yyyy-MM-dd HH:mm} UTC; load average {LoadAverage()}; " +
                          $"other .NET processes during the memory rows: {neighbours}" +
                          (neighbours > 0 ? " (they share the runtime's pages: PSS figures lower, our PSS ratio higher than on a quiet machine)." : "."));
    }

    private static string LoadAverage()
    {
        try { return string.Join(" ", File.ReadAllText("/proc/loadavg").Split(' ').Take(3)); }
        catch (IOException) { return "?"; }
    }

    /// <summary>As cpython_bench.py's BURST.</summary>
    private const int BurstSize = 4;

    /// <summary>Waits (untimed) until the forkserver has a warmed-up idle spare again.</summary>
    private static void SpareReady() => SparesReady(1);

    /// <summary>Waits (untimed, at most 30 s) until the forkserver has <paramref name="count"/> warmed-up idle spares.</summary>
    private static void SparesReady(int count)
    {
        var method = (Multiprocessing.Spawning.ForkServerStartMethod)Context.Get("forkserver").Method;
        var deadline = DateTime.UtcNow.AddSeconds(30);
        while (method.WarmSpares < count && DateTime.UtcNow < deadline) Thread.Sleep(5);
    }

    /// <summary>
    /// <see cref="BurstSize"/> no-op children started one after another, then joined: what a
    /// pool's start or a fan-out costs. For forkserver each repetition first waits (untimed) for
    /// the spares the previous bursts asked for; the first burst, which asks, is warm-up.
    /// </summary>
    private static double Burst(ProcessContext ctx, int reps, int warmup, Action? waitForSpares)
    {
        var times = new List<double>();
        for (int i = 0; i < reps + warmup; i++)
        {
            if (i > 0) waitForSpares?.Invoke();
            Process[] burst = [.. Enumerable.Range(0, BurstSize).Select(_ => ctx.Process(() => { }))];
            try
            {
                long t0 = System.Diagnostics.Stopwatch.GetTimestamp();
                foreach (Process p in burst) p.Start();
                foreach (Process p in burst)
                    if (!p.Join(TimeSpan.FromSeconds(60))) throw new TimeoutException("no-op child did not exit");
                if (i >= warmup) times.Add(System.Diagnostics.Stopwatch.GetElapsedTime(t0).TotalMilliseconds);
            }
            finally
            {
                foreach (Process p in burst)
                {
                    if (p.IsAlive) { p.Kill(); p.Join(TimeSpan.FromSeconds(60)); }
                    p.Dispose();
                }
            }
        }
        return Measure.Median(times);
    }

    /// <summary>
    /// From <c>Start()</c> to the target's first statement: the child reads CLOCK_MONOTONIC
    /// (Stopwatch, the same clock in every process) and leaves it in a file read after the join.
    /// </summary>
    private static double TargetEntry(ProcessContext ctx, int reps, int warmup, Action? waitForSpare)
    {
        string file = Path.Combine(Path.GetTempPath(), $"mp-bench-entry-{Environment.ProcessId}");
        var times = new List<double>();
        try
        {
            for (int i = 0; i < reps + warmup; i++)
            {
                waitForSpare?.Invoke();
                using Process p = ctx.Process(() => File.WriteAllText(file, System.Diagnostics.Stopwatch.GetTimestamp().ToString(CultureInfo.InvariantCulture)));
                long t0 = System.Diagnostics.Stopwatch.GetTimestamp();
                p.Start();
                if (!p.Join(TimeSpan.FromSeconds(60))) { p.Kill(); p.Join(); throw new TimeoutException("child did not exit"); }
                long entry = long.Parse(File.ReadAllText(file), CultureInfo.InvariantCulture);
                if (i >= warmup) times.Add((entry - t0) * 1000.0 / System.Diagnostics.Stopwatch.Frequency);
            }
        }
        finally
        {
            File.Delete(file);
        }
        return Measure.Median(times);
    }

    /// <summary>
    /// forkserver start→join with a spare ready: a start that finds no spare pays a cold boot,
    /// which is the spawn figure, so each repetition first waits (untimed) for the replenished spare.
    /// </summary>
    private static double ForkServerNoOp(int reps, int warmup)
    {
        ProcessContext ctx = Context.Get("forkserver");
        var times = new List<double>();
        for (int i = 0; i < reps + warmup; i++)
        {
            if (i > 0) SpareReady();
            var sw = System.Diagnostics.Stopwatch.StartNew();
            Measure.OurNoOp(ctx);
            if (i >= warmup) times.Add(sw.Elapsed.TotalMilliseconds);
        }
        times.Sort();
        return times[times.Count / 2];
    }
}
