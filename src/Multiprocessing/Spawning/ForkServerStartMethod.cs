using System.Net.Sockets;
using Multiprocessing.Wire;
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

    private readonly Func<HostInfo> _host;
    private readonly int _spares;
    private readonly Lock _lock = new();
    private readonly List<Spare> _idle = [];
    private readonly RecentTargets _targets = new();
    private int _launching;

    internal ForkServerStartMethod(Func<HostInfo> host, int spares = 1)
    {
        _host = host;
        _spares = spares;
    }

    public string Name => "forkserver";

    /// <summary>Pids of the idle spares (children of this process that run no target yet).</summary>
    internal IReadOnlyList<int> IdlePids
    {
        get
        {
            lock (_lock) return [.. _idle.Select(h => h.Os.Id)];
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
                return _idle.Exists(h => h.Warm);
            }
        }
    }

    public ChildHandle Launch(byte[] bootstrap, IReadOnlyList<int> descriptors, System.Reflection.MethodInfo? target)
    {
        // A spare was started before these descriptors existed and cannot inherit them: such a
        // start pays for a fresh host, with the same semantics.
        (Diag.Process Os, Socket Channel)? host = descriptors.Count == 0 ? TakeIdle() : null;
        host ??= HostLauncher.Launch(_host(), descriptors, spare: true, PreloadEnvironment());
        var handle = new ChildHandle(host.Value.Os, host.Value.Channel, bootstrap, tableSize: 0); // a spare closed its strays at start
        // Noted once the payload is on its way: only later spares use it, and the note (the
        // assembly's name, a lock) would otherwise stand between Start() and the child's first line.
        if (target is not null) _targets.Note(target);
        // The replacement's boot costs ~100 ms of CPU, which would compete with the child just
        // handed over: it starts once that child ends, or after a short delay if it runs on.
        _ = Task.WhenAny(handle.Exited, Task.Delay(ReplenishDelay))
                .ContinueWith(_ => Replenish(), CancellationToken.None, TaskContinuationOptions.None, TaskScheduler.Default);
        return handle;
    }

    private Dictionary<string, string> PreloadEnvironment() => new()
    {
        [SpareWarmUp.PreloadVariable] = SpareWarmUp.AssembliesToPreload(),
        [SpareWarmUp.PrepareVariable] = _targets.ToVariable(),
    };

    private (Diag.Process, Socket)? TakeIdle()
    {
        lock (_lock)
        {
            PruneIdle();
            // A warm spare starts the target at once; one still warming up is still ahead of a fresh boot.
            Spare? pick = _idle.Find(h => h.Warm) ?? (_idle.Count > 0 ? _idle[0] : null);
            if (pick is null) return null;
            _idle.Remove(pick);
            return (pick.Os, pick.Channel);
        }
    }

    /// <summary>
    /// Drops dead spares (killed from outside: CPython test_forkserver_sigkill) and takes in the
    /// Ready messages that have come. Call with <c>_lock</c> held.
    /// </summary>
    private void PruneIdle() => _idle.RemoveAll(h => !h.Refresh());

    /// <summary>An idle host, and whether it has said it finished warming up.</summary>
    private sealed class Spare(Diag.Process os, Socket channel)
    {
        public Diag.Process Os { get; } = os;
        public Socket Channel { get; } = channel;
        public bool Warm { get; private set; }

        /// <summary>
        /// Takes in the spare's one message (Ready) if it has come. False, after disposing, if the
        /// spare is dead: an exited process, or end of stream on its channel (readable with
        /// nothing in it), which shows before the runtime has reaped it.
        /// </summary>
        public bool Refresh()
        {
            try
            {
                if (Os.HasExited) return Discard();
                if (!Channel.Poll(0, SelectMode.SelectRead)) return true;
                if (Warm || Channel.Available == 0) return Discard();
                using var stream = new NetworkStream(Channel, ownsSocket: false);
                byte[]? frame = Framing.Read(stream, maxLength: 64);
                if (frame is null || ChannelMessage.Parse(frame, out _) != ChannelMessageKind.Ready) return Discard();
                Warm = true;
                return true;
            }
            catch (Exception e) when (e is InvalidOperationException or SocketException or ObjectDisposedException or IOException or InvalidDataException)
            {
                return Discard();
            }
        }

        private bool Discard()
        {
            Channel.Dispose();
            Os.Dispose();
            return false;
        }
    }

    private void Replenish()
    {
        int needed;
        lock (_lock)
        {
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
                    var h = HostLauncher.Launch(_host(), [], spare: true, PreloadEnvironment());
                    lock (_lock) _idle.Add(new Spare(h.Os, h.Channel));
                }
                catch (Exception e) when (e is InvalidOperationException or IOException or PlatformNotSupportedException or NotSupportedException)
                {
                    // No spare this time; the next Start() launches a host itself and says why if it fails.
                }
                finally
                {
                    lock (_lock) _launching--;
                }
            });
        }
    }
}
