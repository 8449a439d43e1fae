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
            // The run itself takes ~20 s on a quiet 2-core machine (CPython's interpreters and the
            // fresh programs of the first-start row included); 90 s leaves room for a loaded one.
            Assert.True(p.WaitForExit(TimeSpan.FromSeconds(90)), "the runner did not finish in 90 s");
            p.WaitForExit();
            string output = stdout.Result;
            Assert.True(p.ExitCode == 0, $"exit {p.ExitCode}: {stderr.Result}\n{output}");
            Assert.Contains("| figure | ours |", output);
            Assert.Contains("| start→join, no-op child (ms) |", output);
            Assert.Contains("| idle child PSS (MiB) |", output);
            Assert.Contains("| start→join, 4 no-op children started together (ms) |", output);
            Assert.Contains("| a fresh program's first start→join, library load included (ms) |", output);
            Assert.Contains("| small-object Send/Recv round-trip (µs) |", output);
            Assert.Contains("cores", output);
        }
        finally
        {
            if (!p.HasExited) { p.Kill(entireProcessTree: true); p.WaitForExit(TimeSpan.FromSeconds(10)); }
        }
    }
}
