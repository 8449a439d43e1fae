using System.Diagnostics;
using Xunit;

namespace Multiprocessing.Tests.Benchmarks;

/// <summary>
/// Benchmarks are not run by CI; this only checks that the runner starts, measures with one
/// repetition and prints its table. The runner is a project reference, so its build output
/// (with HelloWorld.dll and cpython_bench.py) sits beside the tests: no second `dotnet run` build.
/// </summary>
public sealed class BenchmarkRunnerSmokeTests
{
    [Fact]
    public void Compare_with_one_repetition_prints_a_table()
    {
        string runner = Path.Combine(AppContext.BaseDirectory, "Multiprocessing.Benchmarks.dll");
        Assert.True(File.Exists(runner), runner);
        var psi = new ProcessStartInfo("dotnet") { UseShellExecute = false, RedirectStandardOutput = true, RedirectStandardError = true };
        foreach (string a in new[] { "exec", runner, "compare", "--reps", "1" }) psi.ArgumentList.Add(a);
        using var p = System.Diagnostics.Process.Start(psi)!;
        try
        {
            Task<string> stdout = p.StandardOutput.ReadToEndAsync();
            Task<string> stderr = p.StandardError.ReadToEndAsync();
            // A loaded 2-core machine: the run itself takes ~10 s; 55 s keeps the test under a minute.
            Assert.True(p.WaitForExit(TimeSpan.FromSeconds(55)), "the runner did not finish in 55 s");
            p.WaitForExit();
            string output = stdout.Result;
            Assert.True(p.ExitCode == 0, $"exit {p.ExitCode}: {stderr.Result}\n{output}");
            Assert.Contains("| figure | ours |", output);
            Assert.Contains("| start→join, no-op child (ms) |", output);
            Assert.Contains("| idle child PSS (MiB) |", output);
            Assert.Contains("| start→join, 4 no-op children started together (ms) |", output);
            Assert.Contains("cores", output);
        }
        finally
        {
            if (!p.HasExited) { p.Kill(entireProcessTree: true); p.WaitForExit(TimeSpan.FromSeconds(10)); }
        }
    }
}
