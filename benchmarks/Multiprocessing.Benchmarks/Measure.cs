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
            long t0 = Stopwatch.GetTimestamp();
            once();
            double ms = Stopwatch.GetElapsedTime(t0).TotalMilliseconds;
            if (i >= warmup) times.Add(ms);
        }
        return Median(times);
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

    public static Memory HelloIdleMemory()
    {
        using SysProcess p = SysProcess.Start(HelloStartInfo(idle: true))!;
        try
        {
            Task<string?> line = p.StandardOutput.ReadLineAsync();
            if (!line.Wait(Bound) || line.Result != "ready") throw new TimeoutException("idle hello world did not report ready");
            Thread.Sleep(200);   // let it settle like the other idle children
            return Memory.Read(p.Id);
        }
        finally
        {
            if (!p.HasExited) { p.Kill(); p.WaitForExit(Bound); }
        }
    }

    /// <summary>An idle child of ours: it touches a marker file once its target runs, then sleeps.</summary>
    public static Memory OurIdleMemory(ProcessContext ctx)
    {
        string marker = Path.Combine(Path.GetTempPath(), $"mp-bench-idle-{Environment.ProcessId}-{Guid.NewGuid():N}");
        using Process p = ctx.Process(() => { File.WriteAllText(marker, "ready"); Thread.Sleep(60_000); });
        p.Start();
        try
        {
            long deadline = Environment.TickCount64 + (long)Bound.TotalMilliseconds;
            while (!File.Exists(marker))
            {
                if (Environment.TickCount64 > deadline) throw new TimeoutException("idle child did not start");
                Thread.Sleep(10);
            }
            Thread.Sleep(200);
            return Memory.Read(p.Pid!.Value);
        }
        finally
        {
            if (p.IsAlive) p.Kill();
            p.Join(Bound);
            File.Delete(marker);
        }
    }

    /// <summary>The CPython side, or null with the reason when that interpreter is missing or fails.</summary>
    public static (JsonElement? Result, string Why) CPython(string? pyenvVersion, int reps)
    {
        var psi = new ProcessStartInfo("python3") { UseShellExecute = false, RedirectStandardOutput = true, RedirectStandardError = true };
        psi.ArgumentList.Add(Path.Combine(AppContext.BaseDirectory, "cpython_bench.py"));
        psi.ArgumentList.Add("--reps");
        psi.ArgumentList.Add(reps.ToString());
        if (pyenvVersion is not null) psi.Environment["PYENV_VERSION"] = pyenvVersion;
        SysProcess p;
        try { p = SysProcess.Start(psi)!; }
        catch (System.ComponentModel.Win32Exception e) { return (null, "python3 not found: " + e.Message); }
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
}
