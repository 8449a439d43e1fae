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

    [Fact]
    public void A_start_goes_to_a_warm_spare_and_a_killed_idle_spare_is_replaced_unasked()
    {
        // A context of its own: the shared one's spare may be taken by a test running alongside.
        var method = new ForkServerStartMethod(() => HostInfo.Current(false));
        var ctx = new ProcessContext(method, "ForkServerProcess");
        try
        {
            StartOneAndJoin(ctx); // the first start boots a host; the spare comes after it
            // The parent watches each spare's channel from its launch; the spare's Ready frame arrives there.
            HashSet<int> idle = AwaitWarmSpare(method);

            // Each Start() first tells the spare its payload follows; the spare watches for it a
            // millisecond, then sleeps again. Wakes with no payload soon after change nothing.
            method.Anticipate();
            method.Anticipate();
            Thread.Sleep(20); // past the spare's watch: the payload below comes to a sleeping spare
            Assert.Equal(idle, [.. method.IdlePids]);

            using Process p = ctx.Process(() => Environment.Exit(4));
            p.Start();
            Assert.Contains(p.Pid!.Value, idle);
            Assert.True(p.Join(Long));
            Assert.Equal(4, p.ExitCode);

            // An idle spare killed from outside is replaced without waiting for a start.
            int[] before = [.. AwaitWarmSpare(method)];
            Assert.NotEmpty(before);
            foreach (int pid in before)
            {
                using var spare = System.Diagnostics.Process.GetProcessById(pid);
                spare.Kill();
                Assert.True(spare.WaitForExit(Long));
            }
            var deadline = DateTime.UtcNow + Long;
            while (!(method.HasWarmSpare && !method.IdlePids.Intersect(before).Any()) && DateTime.UtcNow < deadline) Thread.Sleep(20);
            Assert.True(method.HasWarmSpare,
                $"no warm replacement: killed [{string.Join(", ", before)}], idle now [{string.Join(", ", method.IdlePids.Select(pid => $"{pid} {(IsRunning(pid) ? "running" : "gone")}"))}]");
            Assert.Empty(method.IdlePids.Intersect(before));
        }
        finally
        {
            DiscardAndCheckGone(method);
        }
    }

    [Fact]
    public void A_start_that_passes_a_connection_goes_to_a_warm_spare_which_receives_it()
    {
        // CPython's forkserver sends a start's descriptors to the forked child (SCM_RIGHTS); a
        // spare booted before the pipe existed gets its end the same way, not a fresh host.
        var method = new ForkServerStartMethod(() => HostInfo.Current(false));
        var ctx = new ProcessContext(method, "ForkServerProcess");
        try
        {
            StartOneAndJoin(ctx); // the first start boots a host; the spare comes after it
            HashSet<int> idle = AwaitWarmSpare(method);

            var (parentEnd, childEnd) = Connection.Pipe();
            using (parentEnd)
            using (childEnd)
            {
                using Process p = ctx.Process(() => childEnd.Send(childEnd.Recv<int>() * 2));
                p.Start();
                Assert.Contains(p.Pid!.Value, idle);
                childEnd.Close(); // the child has its own copy, received with the payload
                parentEnd.Send(21);
                Assert.True(parentEnd.Poll(Long), "no reply from the child");
                Assert.Equal(42, parentEnd.Recv<int>());
                Assert.True(p.Join(Long));
                Assert.Equal(0, p.ExitCode);
                // The child's copy closed with it: nothing else holds the other end now.
                Assert.Throws<EndOfStreamException>(() => parentEnd.Recv());
            }
        }
        finally
        {
            DiscardAndCheckGone(method);
        }
    }

    [Fact]
    public void Spares_warm_the_socket_stack_only_once_starts_pass_connections()
    {
        var method = new ForkServerStartMethod(() => HostInfo.Current(false));
        var ctx = new ProcessContext(method, "ForkServerProcess");
        string report = Path.Combine(Path.GetTempPath(), $"mp-warm-{Guid.NewGuid():N}");
        try
        {
            Assert.False(SocketsWarmedIn(ctx, method, report), "a spare warmed sockets before any start passed a connection");
            // The connection start takes the one warm spare, so every spare launched after it
            // (none is on its way while one idles) knows that starts pass connections.
            HashSet<int> idle = AwaitWarmSpare(method);
            var (parentEnd, childEnd) = Connection.Pipe();
            using (parentEnd)
            using (childEnd)
            using (Process p = ctx.Process(() => childEnd.Send(1)))
            {
                p.Start();
                Assert.Contains(p.Pid!.Value, idle);
                Assert.Equal(1, parentEnd.Recv<int>());
                Assert.True(p.Join(Long));
            }
            // Spares launched from now on make and use a pipe of their own while idle.
            Assert.True(SocketsWarmedIn(ctx, method, report), "the spare after a connection start did not warm its sockets");
        }
        finally
        {
            File.Delete(report);
            DiscardAndCheckGone(method);
        }
    }

    /// <summary>
    /// Whether a child started on a warm spare finds the sockets' telemetry source made (the
    /// first Socket in a process makes it). One spare at a time: after a start, every idle spare
    /// was launched after it.
    /// </summary>
    private static bool SocketsWarmedIn(ProcessContext ctx, ForkServerStartMethod method, string report)
    {
        method.Anticipate(); // arms the replenish, as every Start() does
        HashSet<int> idle = AwaitWarmSpare(method);
        using Process p = ctx.Process(() => File.WriteAllText(report, SpareWarmUp.SocketsWarmed ? "yes" : "no"));
        p.Start();
        Assert.Contains(p.Pid!.Value, idle);
        Assert.True(p.Join(Long));
        Assert.Equal(0, p.ExitCode);
        return File.ReadAllText(report) == "yes";
    }

    [Fact]
    public void A_spare_whose_launch_failed_is_tried_again_without_a_start()
    {
        // The first launch fails in the parent, as fork(2) does with EAGAIN: the background
        // replenish must try again by itself, or the context has no spare until the next start.
        int calls = 0;
        var method = new ForkServerStartMethod(() => Interlocked.Increment(ref calls) == 1
            ? throw new System.ComponentModel.Win32Exception(11, "Resource temporarily unavailable")
            : HostInfo.Current(false));
        try
        {
            method.Anticipate(); // arms the replenish, as every Start() does
            var deadline = DateTime.UtcNow + Long;
            while (!method.HasWarmSpare && DateTime.UtcNow < deadline) Thread.Sleep(20);
            Assert.True(method.HasWarmSpare, $"no spare after {Volatile.Read(ref calls)} launch attempt(s)");
            Assert.True(Volatile.Read(ref calls) >= 2);
        }
        finally
        {
            DiscardAndCheckGone(method);
        }
    }

    [Fact]
    public void A_burst_of_starts_that_found_no_spare_is_met_by_warm_spares_the_next_time()
    {
        // One spare serves the first start of a burst; the others boot hosts of their own (~60 ms
        // each instead of ~1). Each such start asks for one more spare, so a later burst of the
        // same size goes to warm spares only (CPython's forkserver forks each start on demand).
        // Normally the second burst; on a loaded machine a replacement may land mid-burst and take
        // a start, so that burst asks for fewer: a few bursts are allowed, a single spare never passes.
        var method = new ForkServerStartMethod(() => HostInfo.Current(false));
        var ctx = new ProcessContext(method, "ForkServerProcess");
        const int Burst = 3; // within MaxSpares (at least four)
        try
        {
            StartOneAndJoin(ctx); // the context's first start: no spare yet, so no burst
            AwaitWarmSpare(method);
            Assert.Equal(1, method.WantedSpares);

            bool served = false;
            for (int round = 0; round < 5 && !served; round++)
            {
                HashSet<int> idle = AwaitWarmSpares(method, Math.Min(Burst, method.WantedSpares));
                int[] pids = StartAndJoinBurst(ctx, Burst);
                served = pids.All(idle.Contains);
            }
            Assert.True(served, $"no burst of {Burst} went to warm spares only; spares wanted: {method.WantedSpares}");
            Assert.True(method.WantedSpares >= Burst);
        }
        finally
        {
            DiscardAndCheckGone(method);
        }
    }

    [Fact]
    public void Spares_a_burst_added_are_closed_after_a_spell_without_starts()
    {
        // Ten seconds: both spares must boot and warm up one after the other before the spell ends.
        var method = new ForkServerStartMethod(() => HostInfo.Current(false), retireAfter: TimeSpan.FromSeconds(10));
        var ctx = new ProcessContext(method, "ForkServerProcess");
        try
        {
            StartOneAndJoin(ctx);
            AwaitWarmSpare(method);
            for (int round = 0; round < 5 && method.WantedSpares < 2; round++)
            {
                AwaitWarmSpare(method);
                StartAndJoinBurst(ctx, 2);
            }
            Assert.Equal(2, method.WantedSpares);
            HashSet<int> grown = AwaitWarmSpares(method, 2);

            // Once ten seconds have passed since the last start, the pool keeps one spare; the
            // other exits on its closed channel.
            var deadline = DateTime.UtcNow + Long;
            while (method.WantedSpares > 1 && DateTime.UtcNow < deadline) Thread.Sleep(20);
            Assert.Equal(1, method.WantedSpares);
            int[] kept = [.. method.IdlePids];
            Assert.Single(kept);
            int[] retired = [.. grown.Except(kept)];
            Assert.Single(retired);
            // Gone and reaped: no zombie left in this process's children.
            while (retired.Any(pid => Directory.Exists($"/proc/{pid}")) && DateTime.UtcNow < deadline) Thread.Sleep(20);
            Assert.DoesNotContain(retired, pid => Directory.Exists($"/proc/{pid}"));

            // The one kept still takes the next start.
            using Process p = ctx.Process(() => Environment.Exit(6));
            p.Start();
            Assert.Contains(p.Pid!.Value, kept);
            Assert.True(p.Join(Long));
            Assert.Equal(6, p.ExitCode);
        }
        finally
        {
            DiscardAndCheckGone(method);
        }
    }

    /// <summary>
    /// A spare that died between two prunes is still in the idle list, and its watch has closed
    /// its channel once it saw the exit: the Wake a Start() sends it must not throw out of Start()
    /// (it threw ObjectDisposedException, seen once in a loaded run of the killed-spare test).
    /// </summary>
    [Fact]
    public void Waking_a_spare_whose_channel_is_closed_does_not_throw()
    {
        (int mine, int theirs) = Multiprocessing.Interop.Libc.CreateSocketPair();
        using var peer = new System.Net.Sockets.Socket(new System.Net.Sockets.SafeSocketHandle((IntPtr)theirs, ownsHandle: true));
        var os = System.Diagnostics.Process.Start("sleep", "60")!;
        using var child = System.Diagnostics.Process.GetProcessById(os.Id); // the handle disposes its own
        var handle = new ChildHandle(os, new Microsoft.Win32.SafeHandles.SafeFileHandle((IntPtr)mine, ownsHandle: true));
        try
        {
            handle.SendWake(); // an open channel: the frame goes out
            Assert.True(peer.Poll(5_000_000, System.Net.Sockets.SelectMode.SelectRead));
            handle.Dispose();  // as the watch does once the child has exited
            handle.SendWake();
        }
        finally
        {
            child.Kill();
            child.WaitForExit();
            handle.Dispose();
        }
    }

    private static void StartOneAndJoin(ProcessContext ctx)
    {
        using Process first = ctx.Process(() => { });
        first.Start();
        Assert.True(first.Join(Long));
    }

    /// <summary>Waits for a spare to say it is warm (its Ready frame reaches the parent's watch); returns the idle spares' pids.</summary>
    private static HashSet<int> AwaitWarmSpare(ForkServerStartMethod method)
    {
        var deadline = DateTime.UtcNow + Long;
        while (!method.HasWarmSpare && DateTime.UtcNow < deadline) Thread.Sleep(20);
        Assert.True(method.HasWarmSpare);
        return [.. method.IdlePids];
    }

    /// <summary>Starts <paramref name="count"/> no-op children one after another, then joins them; returns their pids.</summary>
    private static int[] StartAndJoinBurst(ProcessContext ctx, int count)
    {
        Process[] burst = [.. Enumerable.Range(0, count).Select(_ => ctx.Process(() => { }))];
        try
        {
            foreach (Process p in burst) p.Start();
            foreach (Process p in burst) Assert.True(p.Join(Long));
            Assert.All(burst, p => Assert.Equal(0, p.ExitCode));
            return [.. burst.Select(p => p.Pid!.Value)];
        }
        finally
        {
            foreach (Process p in burst) p.Dispose();
        }
    }

    /// <summary>Waits until at least <paramref name="count"/> idle spares are warm; returns the idle spares' pids.</summary>
    private static HashSet<int> AwaitWarmSpares(ForkServerStartMethod method, int count)
    {
        var deadline = DateTime.UtcNow + Long;
        while (method.WarmSpares < count && DateTime.UtcNow < deadline) Thread.Sleep(20);
        Assert.True(method.WarmSpares >= count, $"{method.WarmSpares} warm spares of {count} wanted; idle [{string.Join(", ", method.IdlePids)}]");
        return [.. method.IdlePids];
    }

    /// <summary>Every test leaves no child behind: closed channels make the spares exit.</summary>
    internal static void DiscardAndCheckGone(ForkServerStartMethod method)
    {
        IReadOnlyList<int> spares = method.DiscardSpares();
        var deadline = DateTime.UtcNow + Long;
        while (spares.Any(IsRunning) && DateTime.UtcNow < deadline) Thread.Sleep(20);
        Assert.DoesNotContain(spares, IsRunning);
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
