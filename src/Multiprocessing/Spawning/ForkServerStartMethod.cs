using System.Net.Sockets;
using Multiprocessing.Interop;
using Diag = System.Diagnostics;

namespace Multiprocessing.Spawning;

/// <summary>
/// <c>forkserver</c>, the .NET analogue (a .NET runtime cannot fork): the context keeps idle
/// child hosts already booted — runtime up, assemblies loaded, bootstrap path JIT-compiled —
/// each blocked reading its channel, and <c>Start()</c> hands the payload to one of them, so a
/// start costs one message instead of a runtime boot. A spare is replenished in the background.
/// An idle host owns nothing but its channel: when the parent dies, for any reason, the
/// channel reaches EOF and the host exits, so spares never outlive their parent.
/// </summary>
internal sealed class ForkServerStartMethod : IStartMethod
{
    private static readonly TimeSpan ReplenishDelay = TimeSpan.FromMilliseconds(100);
    private static readonly TimeSpan FirstRetryDelay = TimeSpan.FromSeconds(1);
    private static readonly TimeSpan MaxRetryDelay = TimeSpan.FromSeconds(60);

    private readonly Func<HostInfo> _host;
    private readonly int _spares;
    private readonly Lock _lock = new();
    private readonly List<ChildHandle> _idle = [];
    private readonly RecentTargets _targets = new();
    private readonly Timer _replenishTimer;
    private int _launching;
    private bool _discarded;
    /// <summary>Once a start has passed descriptors, later spares warm the socket stack (<see cref="SpareWarmUp.SocketsVariable"/>).</summary>
    private volatile bool _passesConnections;
    /// <summary>Wait before the next try after a spare's launch failed; doubles while launches keep failing.</summary>
    private TimeSpan _retryDelay = FirstRetryDelay;

    internal ForkServerStartMethod(Func<HostInfo> host, int spares = 1)
    {
        _host = host;
        _spares = spares;
        _replenishTimer = new Timer(static m => ((ForkServerStartMethod)m!).Replenish(), this, Timeout.Infinite, Timeout.Infinite);
    }

    public string Name => "forkserver";

    /// <summary>Pids of the idle spares (children of this process that run no target yet).</summary>
    internal IReadOnlyList<int> IdlePids
    {
        get
        {
            lock (_lock) return [.. _idle.Select(h => h.Pid)];
        }
    }

    /// <summary>True when a spare has finished warming up (benchmarks wait for this before timing a start).</summary>
    internal bool HasWarmSpare
    {
        get
        {
            lock (_lock)
            {
                PruneIdle();
                return FirstWarm() is not null;
            }
        }
    }

    /// <summary>
    /// Wakes the warm spare this start will most likely take: waking a process asleep on an idle
    /// virtual CPU costs 0.15–0.3 ms on this project's VM (a probe pinned to the other CPU: 230–300
    /// µs after the write), which now overlaps the encoding instead of following the write. And arms the replacement: its boot costs ~100 ms of CPU, which would compete with the
    /// child just handed over, so it starts once that child ends, or after a short delay if it
    /// runs on. Armed here, not after the write: arming wakes the runtime's timer thread, which
    /// then competed with the child on a 2-core machine (first line 0.15 ms later).
    /// </summary>
    public void Anticipate()
    {
        lock (_lock) FirstWarm()?.SendWake();
        try
        {
            _replenishTimer.Change(ReplenishDelay, Timeout.InfiniteTimeSpan);
        }
        catch (ObjectDisposedException)
        {
            // Spares discarded: starts launch a host each.
        }
    }

    public ChildHandle Launch(byte[] bootstrap, IReadOnlyList<int> descriptors, System.Reflection.MethodInfo? target)
    {
        // A spare was started before these descriptors existed: they go to it with the payload
        // (SCM_RIGHTS, as CPython's forkserver sends them), where the platform's layout is known.
        // Otherwise such a start pays for a fresh host, which inherits them, with the same semantics.
        bool canPass = descriptors.Count == 0 || OperatingSystem.IsLinux() && descriptors.Count <= Libc.MaxPassedDescriptors;
        if (descriptors.Count > 0) _passesConnections = true;
        ChildHandle? spare = canPass ? TakeIdle() : null;
        ChildHandle handle = spare ?? LaunchHost(descriptors);
        handle.SendBootstrap(bootstrap, tableSize: 0, spare is null ? [] : descriptors); // a spare closed its strays at start
        // Noted once the payload is on its way: only later spares use it, and the note (the
        // assembly's name, a lock) would otherwise stand between Start() and the child's first line.
        if (target is not null) _targets.Note(target);
        return handle;
    }

    private ChildHandle LaunchHost(IReadOnlyList<int> descriptors)
    {
        (Diag.Process os, Socket channel) = HostLauncher.Launch(_host(), descriptors, spare: true, PreloadEnvironment());
        var handle = new ChildHandle(os, channel);
        // When a host that had warmed up ends (its child finished, or an idle spare was killed),
        // a replacement is due. One that died before it was ready is not replaced here: a host
        // that cannot start would be relaunched in a loop; the next Start() says what is wrong.
        _ = handle.Exited.ContinueWith(_ =>
        {
            if (handle.Ready.IsCompleted) Replenish();
        }, CancellationToken.None, TaskContinuationOptions.None, TaskScheduler.Default);
        return handle;
    }

    private Dictionary<string, string> PreloadEnvironment()
    {
        var environment = new Dictionary<string, string>
        {
            [SpareWarmUp.PreloadVariable] = SpareWarmUp.AssembliesToPreload(),
            [SpareWarmUp.PrepareVariable] = _targets.ToVariable(),
        };
        if (_passesConnections) environment[SpareWarmUp.SocketsVariable] = "1";
        return environment;
    }

    private ChildHandle? TakeIdle()
    {
        lock (_lock)
        {
            PruneIdle();
            // A warm spare starts the target at once; one still warming up is still ahead of a fresh boot.
            ChildHandle? pick = FirstWarm() ?? (_idle.Count > 0 ? _idle[0] : null);
            if (pick is not null) _idle.Remove(pick);
            return pick;
        }
    }

    /// <summary>
    /// The idle spare that has said it is warm, first in line: the one a start takes, and so the
    /// one <see cref="Anticipate"/> wakes. Call with <c>_lock</c> held.
    /// </summary>
    private ChildHandle? FirstWarm() => _idle.Find(h => h.Ready.IsCompleted);

    /// <summary>
    /// Drops dead spares (killed from outside: CPython test_forkserver_sigkill), including one
    /// whose channel has ended but whose exit the watch has not reported yet. Call with <c>_lock</c> held.
    /// </summary>
    private void PruneIdle() => _idle.RemoveAll(h =>
    {
        if (!h.Exited.IsCompleted && !h.ChannelEnded) return false;
        h.Dispose();
        return true;
    });

    /// <summary>
    /// Closes every idle spare's channel (each exits on the end of stream) and launches no more;
    /// a spare still booting is discarded when it arrives. Returns the pids of the spares closed.
    /// For a context that is done with (a test's own).
    /// </summary>
    internal IReadOnlyList<int> DiscardSpares()
    {
        lock (_lock)
        {
            _discarded = true;
            _replenishTimer.Dispose();
            int[] pids = [.. _idle.Select(h => h.Pid)];
            foreach (ChildHandle h in _idle) h.Dispose();
            _idle.Clear();
            return pids;
        }
    }

    private void Replenish()
    {
        int needed;
        lock (_lock)
        {
            if (_discarded) return;
            PruneIdle();
            needed = _spares - _idle.Count - _launching;
            if (needed <= 0) return;
            _launching += needed;
        }
        for (int i = 0; i < needed; i++)
        {
            _ = Task.Run(() =>
            {
                try
                {
                    ChildHandle spare = LaunchHost([]);
                    lock (_lock)
                    {
                        _retryDelay = FirstRetryDelay;
                        if (_discarded) spare.Dispose();
                        else _idle.Add(spare);
                    }
                }
                catch (Exception)
                {
                    // Any failure (fork's EAGAIN and socketpair's EMFILE arrive as Win32Exception and
                    // SocketException): no spare this time, and nothing else would ask again until
                    // a start or an exit, so try later, less often while it keeps failing. A start
                    // meanwhile launches a host itself and says why if that fails too.
                    lock (_lock)
                    {
                        if (!_discarded)
                        {
                            _replenishTimer.Change(_retryDelay, Timeout.InfiniteTimeSpan);
                            _retryDelay = TimeSpan.FromTicks(Math.Min(_retryDelay.Ticks * 2, MaxRetryDelay.Ticks));
                        }
                    }
                }
                finally
                {
                    lock (_lock) _launching--;
                }
            });
        }
    }
}
