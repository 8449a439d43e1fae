using Multiprocessing;
using Xunit;

namespace Multiprocessing.Tests.Processes;

public class SmokeTests
{
    [Fact]
    public void Closure_runs_in_child_and_exit_code_travels()
    {
        int n = 7;
        string tag = "hi";
        using var p = new Process(() => { if (n == 7 && tag == "hi") Environment.Exit(42); });
        p.Start();
        Assert.True(p.Join(TimeSpan.FromSeconds(60)));
        Assert.Equal(42, p.ExitCode);
    }
}
