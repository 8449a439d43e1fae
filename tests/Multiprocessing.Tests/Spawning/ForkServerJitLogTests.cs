using Multiprocessing.Spawning;
using Xunit;

namespace Multiprocessing.Tests.Spawning;

/// <summary>
/// A forkserver host launched with the runtime's JIT log set in this process's environment. Apart
/// from the parallel tests (<see cref="ProcessEnvironmentCollection"/>): a child another test
/// started while the variables were set would open the log too, and find it among its strays.
/// </summary>
[Collection(nameof(ProcessEnvironmentCollection))]
public class ForkServerJitLogTests
{
    [Fact]
    public void A_host_started_with_a_JIT_log_keeps_it_open_and_reports_its_exit_intact()
    {
        // The runtime opens DOTNET_JitStdOutFile without close-on-exec before the library runs;
        // a spare that closed it as a stray left the JIT writing into the next descriptor with
        // that number (seen: exit code 160 for a child that returned, or death by "signal 32").
        var method = new ForkServerStartMethod(() => HostInfo.Current(false));
        var ctx = new ProcessContext(method, "ForkServerProcess");
        string log = Path.Combine(Path.GetTempPath(), $"mp-jitlog-{Guid.NewGuid():N}.txt");
        try
        {
            using Process p = ctx.Process(() => Environment.Exit(5));
            Environment.SetEnvironmentVariable("DOTNET_JitStdOutFile", log);
            Environment.SetEnvironmentVariable("DOTNET_JitDisasmSummary", "1");
            try { p.Start(); } // no spare yet: this launches the host, with the variables
            finally
            {
                Environment.SetEnvironmentVariable("DOTNET_JitStdOutFile", null);
                Environment.SetEnvironmentVariable("DOTNET_JitDisasmSummary", null);
            }
            Assert.True(p.Join(TimeSpan.FromSeconds(60)));
            Assert.Equal(5, p.ExitCode);
            Assert.Contains("JIT compiled", File.ReadAllText(log)); // the log got the child's compilations
        }
        finally
        {
            ForkServerTests.DiscardAndCheckGone(method);
            File.Delete(log);
        }
    }
}
