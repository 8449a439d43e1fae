using System.Diagnostics;
using System.Globalization;
using System.Runtime.CompilerServices;
using SysProcess = System.Diagnostics.Process;

namespace Multiprocessing.Benchmarks;

/// <summary>
/// A fresh program's first child: start→join of one no-op child in a new copy of this runner,
/// timed from before the library is first used (its assembly loaded, its start path run and
/// JIT-compiled for the first time), as cpython_bench.py's <c>first</c> times a fresh interpreter
/// from before <c>import multiprocessing</c>. What a script that starts one worker pays, which
/// the warm medians of the other rows leave out.
/// </summary>
internal static class FirstStart
{
    /// <summary>Fresh programs per figure: each costs a runtime boot, and the spread is small.</summary>
    public const int MaxReps = 10;

    private static readonly TimeSpan Bound = TimeSpan.FromSeconds(60);

    /// <summary>The median over <paramref name="reps"/> fresh copies of this runner (ms).</summary>
    public static double Median(string method, int reps)
    {
        var times = new List<double>();
        for (int i = 0; i < reps; i++)
        {
            var psi = new ProcessStartInfo("dotnet") { UseShellExecute = false, RedirectStandardOutput = true };
            foreach (string a in new[] { "exec", typeof(FirstStart).Assembly.Location, "first-start", method }) psi.ArgumentList.Add(a);
            using SysProcess p = SysProcess.Start(psi)!;
            try
            {
                string output = p.StandardOutput.ReadToEnd();
                if (!p.WaitForExit(Bound) || p.ExitCode != 0) throw new InvalidOperationException($"first-start {method} failed: exit {(p.HasExited ? p.ExitCode : "none")}");
                times.Add(double.Parse(output.Trim(), CultureInfo.InvariantCulture));
            }
            finally
            {
                if (!p.HasExited) { p.Kill(entireProcessTree: true); p.WaitForExit(Bound); }
            }
        }
        return Measure.Median(times);
    }

    /// <summary>
    /// In the fresh copy: the caller takes <paramref name="t0"/> before this method is compiled,
    /// since compiling it loads the library (it names the library's types).
    /// </summary>
    [MethodImpl(MethodImplOptions.NoInlining)]
    public static int Once(string method, long t0)
    {
        using Process p = Context.Get(method).Process(() => { });
        p.Start();
        if (!p.Join(Bound)) { p.Kill(); p.Join(Bound); return 1; }
        Console.WriteLine(Stopwatch.GetElapsedTime(t0).TotalMilliseconds.ToString("F2", CultureInfo.InvariantCulture));
        return p.ExitCode == 0 ? 0 : 1;
    }
}
