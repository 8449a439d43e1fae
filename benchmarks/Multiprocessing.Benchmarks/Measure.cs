using System.Diagnostics;
using System.Text.Json;
using Process = Multiprocessing.Process;
using SysProcess = System.Diagnostics.Process;

namespace Multiprocessing.Benchmarks;

/// <summary>Memory figures of one process, KiB, from /proc/&lt;pid&gt;/smaps_rollup.</summary>
internal sealed record Memory(long Rss, long Pss, long PrivateDirty)
{
    public static Memory Read(int pid)
    {
        long rss = 0, pss = 0, dirty = 0;
        foreach (string line in File.ReadLines($"/proc/{pid}/smaps_rollup"))
        {
            string[] parts = line.Split(' ', StringSplitOptions.RemoveEmptyEntries);
            // The first line is the mapping range ("00400000-ffffffff ---p ..."), not a figure.
            if (parts.Length != 3 || parts[2] != "kB") continue;
            long kib = long.Parse(parts[1]);
            switch (parts[0])
            {
                case "Rss:": rss = kib; break;
                case "Pss:": pss = kib; break;
                case "Private_Dirty:": dirty = kib; break;
            }
        }
        return new Memory(rss, pss, dirty);
    }
}

/// <summary>The measurements themselves; each returns a median (ms) over reps with warm-up excluded.</summary>
internal static class Measure
{
    private static readonly TimeSpan Bound = TimeSpan.FromSeconds(60);

    public static double Median(IEnumerable<double> values)
    {
        double[] v = [.. values.Order()];
        return v.Length == 0 ? double.NaN : v.Length % 2 == 1 ? v[v.Length / 2] : (v[v.Length / 2 - 1] + v[v.Length / 2]) / 2;
    }

    public static double Time(int reps, int warmup, Action once)
    {
        var times = new List<double>(reps);
        for (int i = 0; i < warmup + reps; i++)
        {
            double ms = TimeOnce(once);
            if (i >= warmup) times.Add(ms);
        }
        return Median(times);
    }

    /// <summary>
    /// Medians (ms) of two operations timed in alternation, ABBA…, so that both see the same
    /// machine: timed in two blocks, a drift between the blocks went straight into their ratio
    /// (the spawn/hello-world ratio read 1.16–1.34× in three runs in a row). Also the median of
    /// the ratios A/B of each pair timed back to back: this VM's speed changes by up to a third
    /// within seconds (the floor read 44–64 ms in consecutive minutes), and a slow spell that
    /// fell on more A's than B's moved the ratio of the two medians (0.98–1.17× in five
    /// `compare` runs of one build), while a pair's two starts see the same spell.
    /// </summary>
    public static (double A, double B, double PairedRatio) TimeInterleaved(int reps, int warmup, Action a, Action b)
    {
        var timesA = new List<double>(reps);
        var timesB = new List<double>(reps);
        var ratios = new List<double>(reps);
        for (int i = 0; i < warmup + reps; i++)
        {
            bool aFirst = i % 2 == 0;
            double first = TimeOnce(aFirst ? a : b), second = TimeOnce(aFirst ? b : a);
            if (i < warmup) continue;
            timesA.Add(aFirst ? first : second);
            timesB.Add(aFirst ? second : first);
            ratios.Add(timesA[^1] / timesB[^1]);
        }
        return (Median(timesA), Median(timesB), Median(ratios));
    }

    private static double TimeOnce(Action once)
    {
        long t0 = Stopwatch.GetTimestamp();
        once();
        return Stopwatch.GetElapsedTime(t0).TotalMilliseconds;
    }

    /// <summary>start→join of a no-op child with our spawn.</summary>
    public static void OurNoOp(ProcessContext ctx)
    {
        using Process p = ctx.Process(() => { });
        p.Start();
        try
        {
            if (!p.Join(Bound)) throw new TimeoutException("no-op child did not exit");
        }
        finally
        {
            if (p.IsAlive) { p.Kill(); p.Join(Bound); }
        }
    }

    public static string HelloDll => Path.Combine(AppContext.BaseDirectory, "HelloWorld.dll");

    public static ProcessStartInfo HelloStartInfo(bool idle)
    {
        // `dotnet exec` like our children, so the floor has the same host path.
        var psi = new ProcessStartInfo("dotnet") { UseShellExecute = false, RedirectStandardOutput = idle, RedirectStandardInput = idle };
        psi.ArgumentList.Add("exec");
        psi.ArgumentList.Add(HelloDll);
        if (idle) psi.ArgumentList.Add("idle");
        return psi;
    }

    /// <summary>start→exit of a bare `dotnet exec HelloWorld.dll`: the floor for a cold .NET child.</summary>
    public static void HelloOnce()
    {
        using SysProcess p = SysProcess.Start(HelloStartInfo(idle: false))!;
        try
        {
            if (!p.WaitForExit(Bound)) throw new TimeoutException("hello world did not exit");
        }
        finally
        {
            if (!p.HasExited) { p.Kill(); p.WaitForExit(Bound); }
        }
    }

    /// <summary>
    /// Our idle child beside two bare `dotnet` apps, all alive at once, so each shares the
    /// runtime's file pages with the same processes when its PSS is read: "sleep" waits in
    /// Thread.Sleep like our child's target, "console" prints a line and blocks on stdin (the
    /// figure `compare` used before). No readiness signal: a marker file or a pipe would load
    /// code into one side only; each is read once its CPU time has stopped moving.
    /// <paramref name="childEnvironment"/> is set for our child only (knob experiments).
    /// </summary>
    public static (Memory Ours, Memory BareSleep, Memory BareConsole, int Neighbours) IdleTrio(ProcessContext ctx, Action<int, int>? inspect = null,
                                                                             IReadOnlyDictionary<string, string>? childEnvironment = null)
    {
        using Process p = ctx.Process(() => Thread.Sleep(60_000));
        childEnvironment ??= new Dictionary<string, string>();
        foreach ((string k, string v) in childEnvironment) Environment.SetEnvironmentVariable(k, v);
        try { p.Start(); }
        finally { foreach (string k in childEnvironment.Keys) Environment.SetEnvironmentVariable(k, null); }
        SysProcess? sleeper = null, console = null;
        try
        {
            var sleepPsi = new ProcessStartInfo("dotnet") { UseShellExecute = false };
            sleepPsi.ArgumentList.Add("exec");
            sleepPsi.ArgumentList.Add(HelloDll);
            sleepPsi.ArgumentList.Add("sleep");
            sleeper = SysProcess.Start(sleepPsi)!;
            console = SysProcess.Start(HelloStartInfo(idle: true))!;
            Task<string?> line = console.StandardOutput.ReadLineAsync();
            if (!line.Wait(Bound) || line.Result != "ready") throw new TimeoutException("idle hello world did not report ready");
            int ours = p.Pid!.Value;
            foreach (int pid in new[] { ours, sleeper.Id, console.Id }) AwaitSettled(pid);
            Memory o = Memory.Read(ours), s = Memory.Read(sleeper.Id), c = Memory.Read(console.Id);
            inspect?.Invoke(ours, sleeper.Id);
            return (o, s, c, RuntimeNeighbours());
        }
        finally
        {
            if (p.IsAlive) p.Kill();
            p.Join(Bound);
            foreach (SysProcess? bare in new[] { sleeper, console })
            {
                if (bare is null) continue;
                if (!bare.HasExited) { bare.Kill(); bare.WaitForExit(Bound); }
                bare.Dispose();
            }
        }
    }

    /// <summary>
    /// .NET processes alive now that are neither this one, its descendants (the measured
    /// children, forkserver spares) nor its ancestors (`dotnet run`, which every run of the
    /// README's command has): each maps the runtime's files too, so it lowers every
    /// measured process's PSS and raises the child's ratio to a bare app (two stray ones moved
    /// 1.11× to 1.14×). Found by their mapping of System.Private.CoreLib.dll.
    /// </summary>
    public static int RuntimeNeighbours()
    {
        var parents = new Dictionary<int, int>();
        var runtimes = new List<int>();
        foreach (string dir in Directory.GetDirectories("/proc"))
        {
            if (!int.TryParse(Path.GetFileName(dir), out int pid)) continue;
            try
            {
                string stat = File.ReadAllText(Path.Combine(dir, "stat"));
                parents[pid] = int.Parse(stat[(stat.LastIndexOf(')') + 2)..].Split(' ')[1]);
                if (File.ReadLines(Path.Combine(dir, "maps")).Any(l => l.EndsWith("/System.Private.CoreLib.dll", StringComparison.Ordinal))) runtimes.Add(pid);
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException or FormatException) { } // gone meanwhile, or not ours to read
        }
        bool Mine(int pid)
        {
            for (int hops = 0; hops < 64 && pid > 1; hops++)
            {
                if (pid == Environment.ProcessId) return true;
                if (!parents.TryGetValue(pid, out pid)) return false;
            }
            return false;
        }
        var ancestors = new HashSet<int>();
        for (int pid = Environment.ProcessId; pid > 1 && ancestors.Add(pid) && parents.TryGetValue(pid, out int parent);) pid = parent;
        return runtimes.Count(pid => !Mine(pid) && !ancestors.Contains(pid));
    }

    /// <summary>
    /// Until the process has used no CPU for 300 ms, and at least 500 ms after it started:
    /// past the runtime's tiering delay (100 ms) and its background work after startup.
    /// </summary>
    private static void AwaitSettled(int pid)
    {
        long deadline = Environment.TickCount64 + (long)Bound.TotalMilliseconds;
        long last = CpuTicks(pid), stableSince = Environment.TickCount64;
        var started = SysProcess.GetProcessById(pid).StartTime;
        while (Environment.TickCount64 < deadline)
        {
            Thread.Sleep(50);
            long now = CpuTicks(pid);
            if (now != last) { last = now; stableSince = Environment.TickCount64; }
            if (Environment.TickCount64 - stableSince >= 300 && DateTime.Now - started >= TimeSpan.FromMilliseconds(500)) return;
        }
        throw new TimeoutException($"process {pid} did not settle");
    }

    /// <summary>utime + stime from /proc/&lt;pid&gt;/stat (fields 14 and 15; the name in parentheses may hold spaces).</summary>
    private static long CpuTicks(int pid)
    {
        string stat = File.ReadAllText($"/proc/{pid}/stat");
        string[] f = stat[(stat.LastIndexOf(')') + 2)..].Split(' ');
        return long.Parse(f[11]) + long.Parse(f[12]);
    }

    /// <summary>The CPython side, or null with the reason when that interpreter is missing or fails.</summary>
    public static (JsonElement? Result, string Why) CPython(string? pyenvVersion, int reps)
    {
        (SysProcess? started, string why) = StartCPythonBench(pyenvVersion, stdin: false, "--reps", reps.ToString());
        if (started is not { } p) return (null, why);
        using (p)
        {
            try
            {
                Task<string> stdout = p.StandardOutput.ReadToEndAsync();
                Task<string> stderr = p.StandardError.ReadToEndAsync();
                if (!p.WaitForExit(TimeSpan.FromMinutes(10))) return (null, "timed out");
                p.WaitForExit();
                if (p.ExitCode != 0)
                {
                    string err = stderr.Result.Trim().Split('\n')[^1];
                    return (null, $"missing ({err})");
                }
                return (JsonDocument.Parse(stdout.Result).RootElement.Clone(), "");
            }
            finally
            {
                if (!p.HasExited) { p.Kill(entireProcessTree: true); p.WaitForExit(Bound); }
            }
        }
    }

    /// <summary>
    /// <c>python3 cpython_bench.py ARGS</c> (under PYENV_VERSION when given) with stdout and stderr
    /// redirected, and stdin when asked; null, with why, when python3 cannot be started.
    /// </summary>
    public static (SysProcess? Python, string Why) StartCPythonBench(string? pyenvVersion, bool stdin, params string[] args)
    {
        var psi = new ProcessStartInfo("python3")
        {
            UseShellExecute = false, RedirectStandardInput = stdin, RedirectStandardOutput = true, RedirectStandardError = true,
        };
        psi.ArgumentList.Add(Path.Combine(AppContext.BaseDirectory, "cpython_bench.py"));
        foreach (string a in args) psi.ArgumentList.Add(a);
        if (pyenvVersion is not null) psi.Environment["PYENV_VERSION"] = pyenvVersion;
        try
        {
            return (SysProcess.Start(psi)!, "");
        }
        catch (System.ComponentModel.Win32Exception e)
        {
            return (null, "python3 not found: " + e.Message);
        }
    }
}
