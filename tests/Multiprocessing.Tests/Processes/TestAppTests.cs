using Xunit;

namespace Multiprocessing.Tests.Processes;

public class TestAppTests
{
    [Fact]
    public void A_console_app_parent_starts_a_closure_child()
    {
        TestApp.Result r = TestApp.Run("Smoke");
        Assert.Equal(0, r.ExitCode);
        Assert.Contains("child got 7", r.Stdout);
        Assert.Contains("exit=42", r.Stdout);
    }
}
