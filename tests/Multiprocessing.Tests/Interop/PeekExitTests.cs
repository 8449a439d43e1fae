using System.Diagnostics;
using Multiprocessing.Interop;
using Xunit;
using SysProcess = System.Diagnostics.Process;

namespace Multiprocessing.Tests.Interop;

/// <summary>
/// Libc.PeekExit looks at a child's exit status without reaping it: the runtime's SIGCHLD handler
/// must still reap the child and report its status (it fails fast if someone else reaped it).
/// </summary>
public class PeekExitTests
{
    [Fact]
    public void A_running_child_is_running_and_a_killed_one_reports_128_plus_the_signal_and_is_still_reaped_by_the_runtime()
    {
        Assert.True(Libc.CanPeekExit, "this suite runs on 64-bit Linux");
        using var sleeper = SysProcess.Start(new ProcessStartInfo("sleep", "60") { UseShellExecute = false })!;
        try
        {
            Assert.False(Libc.PeekExit(sleeper.Id, out _));
            Assert.Equal(0, Libc.Kill(sleeper.Id, Libc.SIGKILL));
            // Until the runtime reaps it (null from then on), every peek that sees it ended agrees on
            // the status; whether a peek wins the race against the reap varies from run to run.
            var deadline = Stopwatch.StartNew();
            while (deadline.Elapsed < TimeSpan.FromSeconds(30))
            {
                bool? state = Libc.PeekExit(sleeper.Id, out int code);
                if (state is null) break;
                if (state == true) Assert.Equal(128 + 9, code);
                Thread.Yield();
            }
            Assert.True(sleeper.WaitForExit(TimeSpan.FromSeconds(30)), "the runtime did not reap the child after it was peeked at");
            Assert.Equal(128 + 9, sleeper.ExitCode);
            // Reaped: no longer waitable.
            Assert.Null(Libc.PeekExit(sleeper.Id, out _));
        }
        finally
        {
            if (!sleeper.HasExited) { sleeper.Kill(); sleeper.WaitForExit(TimeSpan.FromSeconds(30)); }
        }
    }

    [Fact]
    public void An_exit_status_is_reported_as_it_is()
    {
        using var shell = SysProcess.Start(new ProcessStartInfo("sh", "-c \"read x; exit 7\"") { UseShellExecute = false, RedirectStandardInput = true })!;
        try
        {
            Assert.False(Libc.PeekExit(shell.Id, out _));
            shell.StandardInput.Close(); // EOF: the shell exits 7
            var deadline = Stopwatch.StartNew();
            while (deadline.Elapsed < TimeSpan.FromSeconds(30))
            {
                bool? state = Libc.PeekExit(shell.Id, out int code);
                if (state is null) break;
                if (state == true) Assert.Equal(7, code);
                Thread.Yield();
            }
            Assert.True(shell.WaitForExit(TimeSpan.FromSeconds(30)));
            Assert.Equal(7, shell.ExitCode);
        }
        finally
        {
            if (!shell.HasExited) { shell.Kill(); shell.WaitForExit(TimeSpan.FromSeconds(30)); }
        }
    }
}
