using Xunit;

namespace Multiprocessing.Tests.Processes;

public abstract partial class ProcessSuite
{
    [Fact]
    public void Closure_captures_travel_and_exit_code_is_reported()
    {
        int n = 7;
        string tag = "hi";
        Process p = Make(() => { if (n == 7 && tag == "hi") Environment.Exit(42); });
        Assert.Equal(42, RunToEnd(p));
    }
}
