using System.Diagnostics;
using System.Globalization;
using System.Runtime;
using Process = Multiprocessing.Process;
using SysProcess = System.Diagnostics.Process;

namespace Multiprocessing.Benchmarks;

/// <summary>
/// `breakdown`: where a spawn start spends its time, and which runtime settings for the child
/// change it. Each setting runs in a fresh copy of this runner with the variable in its
/// environment, which children inherit; the parent's own share is kept out by warm-up.
/// Timestamps are CLOCK_MONOTONIC (Stopwatch) on both sides, so they compare across processes.
/// </summary>
internal static class Breakdown
{
    private static readonly (string Name, string[] Env)[] Settings =
    [
        ("default", []),
        ("TieredCompilation=0", ["DOTNET_TieredCompilation=0"]),
        ("TieredPGO=0", ["DOTNET_TieredPGO=0"]),
        ("TC_QuickJitForLoops=0", ["DOTNET_TC_QuickJitForLoops=0"]),
        ("OSR off (TC_OnStackReplacement=0)", ["DOTNET_TC_OnStackReplacement=0"]),
        ("ReadyToRun=0", ["DOTNET_ReadyToRun=0"]),
        ("TieredPGO=0 + QuickJitForLoops=0", ["DOTNET_TieredPGO=0", "DOTNET_TC_QuickJitForLoops=0"]),
        ("gcServer=0 + GCgen0size=0x400000", ["DOTNET_gcServer=0", "DOTNET_GCgen0size=0x400000"]),
        ("GCHeapHardLimit=0x10000000", ["DOTNET_GCHeapHardLimit=0x10000000"]),
        ("TC_CallCountThreshold=1", ["DOTNET_TC_CallCountThreshold=1"]),
    ];

    public static int Run(int reps)
    {
        Console.WriteLine("| child setting | hello start→exit (ms) | spawn start→join (ms) | Start()→target entry (ms) | target entry→join (ms) | child JIT methods / JIT ms / assemblies at target | hello JIT methods / ms / assemblies | primes in child (ms) |");
        Console.WriteLine("|---|---|---|---|---|---|---|---|");
        foreach ((string name, string[] env) in Settings)
        {
            var psi = new ProcessStartInfo("dotnet") { UseShellExecute = false, RedirectStandardOutput = true };
            foreach (string a in new[] { "exec", typeof(Breakdown).Assembly.Location, "breakdown-one", "--reps", reps.ToString(CultureInfo.InvariantCulture) })
                psi.ArgumentList.Add(a);
            foreach (string kv in env) psi.Environment[kv[..kv.IndexOf('=')]] = kv[(kv.IndexOf('=') + 1)..];
            using SysProcess p = SysProcess.Start(psi)!;
            try
            {
                Task<string> output = p.StandardOutput.ReadToEndAsync();
                if (!p.WaitForExit(TimeSpan.FromMinutes(5))) throw new TimeoutException(name);
                p.WaitForExit();
                Console.WriteLine($"| {name} | {output.Result.Trim()} |");
            }
            finally
            {
                if (!p.HasExited) { p.Kill(entireProcessTree: true); p.WaitForExit(TimeSpan.FromSeconds(10)); }
            }
        }
        Console.WriteLine();
        Console.WriteLine($"Medians over {reps} repetitions; {Environment.ProcessorCount} cores; {DateTime.UtcNow:yyyy-MM-dd HH:mm} UTC; load {File.ReadAllText("/proc/loadavg").Trim()}");
        return 0;
    }

    /// <summary>One setting, in this process's environment: prints the cells of one row.</summary>
    public static int RunOne(int reps)
    {
        int warmup = 2;
        ProcessContext spawn = Context.Get("spawn");
        (double hello, double startJoin, _) = Measure.TimeInterleaved(reps, warmup, Measure.HelloOnce, () => Measure.OurNoOp(spawn));

        var toEntry = new List<double>();
        var entryToJoin = new List<double>();
        string childJit = "";
        string file = Path.Combine(Path.GetTempPath(), $"mp-bench-breakdown-{Environment.ProcessId}");
        for (int i = 0; i < warmup + reps; i++)
        {
            using Process p = spawn.Process(() => File.WriteAllText(file,
                $"{Stopwatch.GetTimestamp()} {JitInfo.GetCompiledMethodCount()} {JitInfo.GetCompilationTime().TotalMilliseconds:F1} {AppDomain.CurrentDomain.GetAssemblies().Length}"));
            long t0 = Stopwatch.GetTimestamp();
            p.Start();
            if (!p.Join(TimeSpan.FromSeconds(60))) { p.Kill(); p.Join(TimeSpan.FromSeconds(10)); throw new TimeoutException("child"); }
            long t2 = Stopwatch.GetTimestamp();
            string[] f = File.ReadAllText(file).Split(' ');
            long t1 = long.Parse(f[0], CultureInfo.InvariantCulture);
            if (i < warmup) continue;
            toEntry.Add(Stopwatch.GetElapsedTime(t0, t1).TotalMilliseconds);
            entryToJoin.Add(Stopwatch.GetElapsedTime(t1, t2).TotalMilliseconds);
            childJit = $"{f[1]} / {f[2]} / {f[3]}";
        }
        File.Delete(file);

        string helloJit;
        var psi = new ProcessStartInfo("dotnet") { UseShellExecute = false, RedirectStandardOutput = true };
        foreach (string a in new[] { "exec", Measure.HelloDll, "jit" }) psi.ArgumentList.Add(a);
        using (SysProcess h = SysProcess.Start(psi)!)
        {
            helloJit = h.StandardOutput.ReadToEnd().Trim().Replace(" ", " / ");
            h.WaitForExit(TimeSpan.FromSeconds(60));
        }

        // The CPU-bound sample (prime counting) timed inside the child, start cost excluded.
        var primes = new List<double>();
        for (int i = 0; i < 3; i++)
        {
            using Process p = spawn.Process(() =>
            {
                long s = Stopwatch.GetTimestamp();
                long n = Primes.Count(3_000_000);
                File.WriteAllText(file, $"{Stopwatch.GetElapsedTime(s).TotalMilliseconds.ToString("F1", CultureInfo.InvariantCulture)} {n}");
            });
            p.Start();
            if (!p.Join(TimeSpan.FromSeconds(120))) { p.Kill(); p.Join(TimeSpan.FromSeconds(10)); throw new TimeoutException("primes"); }
            primes.Add(double.Parse(File.ReadAllText(file).Split(' ')[0], CultureInfo.InvariantCulture));
        }
        File.Delete(file);

        Console.Write(string.Join(" | ", F(hello), F(startJoin), F(Measure.Median(toEntry)), F(Measure.Median(entryToJoin)), childJit, helloJit, F(Measure.Median(primes))));
        return 0;
    }

    private static string F(double v) => v.ToString("F1", CultureInfo.InvariantCulture);
}

/// <summary>The Quickstart's prime counting: trial division with a hot inner loop (OSR/tiering sensitive).</summary>
internal static class Primes
{
    public static long Count(int below)
    {
        long count = 0;
        for (int n = 2; n < below; n++)
        {
            bool prime = true;
            for (int d = 2; (long)d * d <= n; d++)
                if (n % d == 0) { prime = false; break; }
            if (prime) count++;
        }
        return count;
    }
}
