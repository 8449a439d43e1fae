using Multiprocessing.Spawning;
using Xunit;

namespace Multiprocessing.Tests.Spawning;

/// <summary>What only forkserver has: spare hosts. Everything else runs in ForkServerProcessTests.</summary>
public class ForkServerTests
{
    private static readonly TimeSpan Long = TimeSpan.FromSeconds(60);

    [Fact]
    public void Spare_hosts_die_with_a_SIGKILLed_parent()
    {
        System.Diagnostics.Process parent = TestApp.Start("ForkServerSpares");
        var spares = new List<int>();
        try
        {
            string? line = parent.StandardOutput.ReadLine();
            Assert.NotNull(line);
            Assert.StartsWith("spares: ", line);
            spares.AddRange(line["spares: ".Length..].Split(',', StringSplitOptions.RemoveEmptyEntries).Select(int.Parse));
            Assert.NotEmpty(spares);
            Assert.All(spares, pid => Assert.True(IsRunning(pid), $"spare {pid} should be running"));

            parent.Kill(); // SIGKILL: no exit code of ours runs in the parent
            parent.WaitForExit();

            // The spare learns of the death through EOF on its channel: bounded by Long, typically milliseconds.
            var deadline = DateTime.UtcNow + Long;
            while (spares.Any(IsRunning) && DateTime.UtcNow < deadline) Thread.Sleep(20);
            Assert.All(spares, pid => Assert.False(IsRunning(pid), $"spare {pid} outlived its parent"));
        }
        finally
        {
            if (!parent.HasExited) parent.Kill(entireProcessTree: true);
            foreach (int pid in spares)
            {
                if (IsRunning(pid)) try { System.Diagnostics.Process.GetProcessById(pid).Kill(); } catch (ArgumentException) { }
            }
            parent.Dispose();
        }
    }

    [Fact]
    public void A_killed_spare_is_replaced_and_the_next_start_works()
    {
        ProcessContext ctx = Context.Get("forkserver");
        var method = (ForkServerStartMethod)ctx.Method;
        using (Process first = ctx.Process(() => { }))
        {
            first.Start();
            Assert.True(first.Join(Long));
        }
        var deadline = DateTime.UtcNow + Long;
        while (method.IdlePids.Count == 0 && DateTime.UtcNow < deadline) Thread.Sleep(20);
        foreach (int pid in method.IdlePids)
        {
            // Kill() only sends SIGKILL; wait for the death, as CPython's test_forkserver_sigkill
            // does, so the next Start() races nothing but the replacement.
            using var spare = System.Diagnostics.Process.GetProcessById(pid);
            spare.Kill();
            Assert.True(spare.WaitForExit(Long));
        }

        using Process second = ctx.Process(() => Environment.Exit(3));
        second.Start();
        Assert.True(second.Join(Long));
        Assert.Equal(3, second.ExitCode);
        Assert.StartsWith("ForkServerProcess-", second.Name);
    }

    internal static bool IsRunning(int pid)
    {
        try
        {
            // A zombie still has /proc/<pid>; its state letter is Z.
            string stat = File.ReadAllText($"/proc/{pid}/stat");
            return stat[(stat.LastIndexOf(')') + 2)..][0] != 'Z';
        }
        catch (IOException) { return false; }
        catch (UnauthorizedAccessException) { return false; }
    }
}
