using Multiprocessing.Spawning;
using Xunit;

namespace Multiprocessing.Tests.Spawning;

/// <summary>
/// Children start without the runtime's debugger transport and diagnostic IPC server unless the
/// parent keeps them (ChildLaunch.DiagnosticsOffVariables says why).
/// </summary>
public class ChildDiagnosticsTests
{
    private static readonly TimeSpan Long = TimeSpan.FromSeconds(60);

    /// <summary>What a child finds: its diagnostic socket and debugger pipes in the temporary directory, and the two variables.</summary>
    private static string Observe(ProcessContext ctx)
    {
        string report = Path.Combine(Path.GetTempPath(), $"mp-diag-{Guid.NewGuid():N}");
        using Process p = ctx.Process(() =>
        {
            // The runtime names them by pid and start time in $TMPDIR (or /tmp), as Path.GetTempPath
            // does; the start time tells ours from those a killed process of the same pid left.
            string tmp = Path.GetTempPath();
            string id = $"{Environment.ProcessId}-{StartTime()}";
            int sockets = Directory.GetFiles(tmp, $"dotnet-diagnostic-{id}-socket").Length;
            int pipes = Directory.GetFiles(tmp, $"clr-debug-pipe-{id}-*").Length;
            string ipc = Environment.GetEnvironmentVariable("DOTNET_EnableDiagnostics_IPC") ?? "unset";
            string debugger = Environment.GetEnvironmentVariable("DOTNET_EnableDiagnostics_Debugger") ?? "unset";
            File.WriteAllText(report, $"sockets={sockets} pipes={pipes} ipc={ipc} debugger={debugger}");
        });
        try
        {
            p.Start();
            Assert.True(p.Join(Long), "the child did not finish");
            Assert.Equal(0, p.ExitCode);
            return File.ReadAllText(report);
        }
        finally
        {
            if (p.IsAlive) { p.Kill(); p.Join(Long); }
            File.Delete(report);
        }
    }

    /// <summary>Field 22 of /proc/self/stat (clock ticks since boot), which the runtime puts in those names.</summary>
    private static string StartTime()
    {
        string stat = File.ReadAllText("/proc/self/stat");
        return stat[(stat.LastIndexOf(')') + 2)..].Split(' ')[19];
    }

    private static string Variables() =>
        $"ipc={Environment.GetEnvironmentVariable("DOTNET_EnableDiagnostics_IPC") ?? "unset"} " +
        $"debugger={Environment.GetEnvironmentVariable("DOTNET_EnableDiagnostics_Debugger") ?? "unset"}";

    [Theory]
    [InlineData("spawn")]
    [InlineData("forkserver")]
    public void A_child_runs_without_the_runtimes_diagnostics(string method)
    {
        string seen = Observe(Context.Get(method));
        if (HostInfo.Current(false).KeepChildDiagnostics)
        {
            // This test run sets the variables itself (or is debugged): the user's word wins, and
            // children inherit the environment unchanged.
            Assert.EndsWith(Variables(), seen);
            return;
        }
        Assert.Equal("sockets=0 pipes=0 ipc=0 debugger=0", seen);
    }

    [Fact]
    public void A_parent_that_keeps_diagnostics_gives_its_children_the_socket_and_pipes_the_probe_looks_for()
    {
        // The control for the test above: the same probe finds them when the runtime makes them.
        HostInfo host = HostInfo.Current(false);
        var keep = new ProcessContext(new SpawnStartMethod(() => host with { KeepChildDiagnostics = true }), "SpawnProcess");
        string seen = Observe(keep);
        if (HostInfo.KeepDiagnostics(false, Environment.GetEnvironmentVariable))
            Assert.EndsWith(Variables(), seen); // the environment's own settings decide what the runtime makes
        else
            Assert.Equal("sockets=1 pipes=2 ipc=unset debugger=unset", seen);
    }
}
