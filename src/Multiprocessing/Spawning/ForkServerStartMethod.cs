using Microsoft.Win32.SafeHandles;
using Multiprocessing.Interop;
using Diag = System.Diagnostics;

namespace Multiprocessing.Spawning;

/// <summary>
/// <c>forkserver</c>, the .NET analogue (a .NET runtime cannot fork): the context keeps idle
/// child hosts already booted — runtime up, assemblies loaded, bootstrap path JIT-compiled —
/// each blocked reading its channel, and <c>Start()</c> hands the payload to one of them, so a
/// start costs one message instead of a runtime boot. Spares are replenished in the background:
/// one to begin with, one more for each start that found none idle (a burst of starts), up to
/// <see cref="MaxSpares"/>, and back to one after a spell without starts.
/// An idle host owns nothing but its channel: when the parent dies, for any reason, the
/// channel reaches EOF and the host exits, so spares never outlive their parent.
/// </summary>
internal sealed partial class ForkServerStartMethod : IStartMethod
{
    private static readonly TimeSpan ReplenishDelay = TimeSpan.FromMilliseconds(100);
    private static readonly TimeSpan FirstRetryDelay = TimeSpan.FromSeconds(1);
    private static readonly TimeSpan MaxRetryDelay = TimeSpan.FromSeconds(60);
    private static readonly TimeSpan DefaultRetireAfter = TimeSpan.FromSeconds(60);

    /// <summary>
    /// The most spares a burst of starts can grow the pool to: one per core, at least four (a
    /// pool's workers started together), at most sixteen: each idle host is a booted, warmed-up
    /// runtime, measured at ≈ 10 MiB PSS and 6 MiB private dirty on this project's machine.
    /// </summary>
    internal static int MaxSpares => Math.Clamp(Environment.ProcessorCount, 4, 16);

    private readonly Func<HostInfo> _host;
    private readonly TimeSpan _retireAfter;
    private readonly Lock _lock = new();
    private readonly List<ChildHandle> _idle = [];
    private readonly RecentTargets _targets = new();
    private readonly Timer _replenishTimer;
    private readonly Timer _retireTimer;
    /// <summary>How many idle spares to keep: grows by one for each start that found none, up to <see cref="MaxSpares"/>.</summary>
    private int _wanted = 1;
    /// <summary>Set once a spare has joined the idle list: a start before that (the context's first) is no sign of a burst.</summary>
    private bool _hadSpare;
    private long _lastStart;
    /// <summary>A spare's launch (fork and exec) is under way; one at a time (<see cref="Replenish"/>).</summary>
    private bool _launching;
    private bool _discarded;
    /// <summary>Once a start has passed descriptors, later spares warm the socket stack (<see cref="SpareWarmUp.SocketsVariable"/>).</summary>
    private volatile bool _passesConnections;
    /// <summary>Wait before the next try after a spare's launch failed; doubles while launches keep failing.</summary>
    private TimeSpan _retryDelay = FirstRetryDelay;

    /// <param name="host">How to launch a host.</param>
    /// <param name="retireAfter">How long spares beyond the first stay without a start before they are closed (tests shorten it).</param>
    internal ForkServerStartMethod(Func<HostInfo> host, TimeSpan? retireAfter = null)
    {
        _host = host;
        _retireAfter = retireAfter ?? DefaultRetireAfter;
        _replenishTimer = new Timer(static m => ((ForkServerStartMethod)m!).Replenish(), this, Timeout.Infinite, Timeout.Infinite);
        _retireTimer = new Timer(static m => ((ForkServerStartMethod)m!).Retire(), this, Timeout.Infinite, Timeout.Infinite);
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
    internal bool HasWarmSpare => WarmSpares > 0;

    /// <summary>How many idle spares have finished warming up.</summary>
    internal int WarmSpares
    {
        get
        {
            lock (_lock)
            {
                PruneIdle();
                return _idle.Count(h => h.Ready.IsCompleted);
            }
        }
    }

    /// <summary>How many idle spares the context keeps now (one, more after bursts of starts).</summary>
    internal int WantedSpares
    {
        get
        {
            lock (_lock) return _wanted;
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
        if (spare is null && canPass) NoteShortage();
        ChildHandle handle;
        if (spare is not null)
        {
            handle = spare;
            handle.SendBootstrap(bootstrap, tableSize: 0, descriptors); // a spare closed its strays at start
        }
        else
        {
            // No spare to take: a host booted for this start, as spawn boots one (it inherits the
            // descriptors). Not a spare's boot: its warm-up, worth it for a host that waits for
            // later starts, held the payload back (a program's first forkserver start: 176 ms,
            // against 110 ms for its first spawn start).
            handle = SpawnStartMethod.LaunchFresh(_host(), bootstrap, descriptors);
        }
        // Noted once the payload is on its way: only later spares use it, and the note (the
        // assembly's name, a lock) would otherwise stand between Start() and the child's first line.
        if (target is not null) _targets.Note(target);
        return handle;
    }

    private ChildHandle LaunchSpare()
    {
        (Diag.Process os, SafeFileHandle channel) = HostLauncher.Launch(_host(), [], spare: true, PreloadEnvironment());
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
            _lastStart = Environment.TickCount64;
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
}
