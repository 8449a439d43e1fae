using System.Net.Sockets;
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
    /// <summary>Tells a child host it is a spare: warm up, then wait for a payload; EOF means "not needed".</summary>
    internal const string WarmVariable = "MULTIPROCESSING_WARM_HOST";

    private static readonly Dictionary<string, string> s_warmEnvironment = new() { [WarmVariable] = "1" };

    private readonly Func<HostInfo> _host;
    private readonly int _spares;
    private readonly Lock _lock = new();
    private readonly Queue<(Diag.Process Os, Socket Channel)> _idle = new();
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

    public ChildHandle Launch(byte[] bootstrap, IReadOnlyList<int> descriptors)
    {
        // A spare was started before these descriptors existed and cannot inherit them: such a
        // start pays for a fresh host, with the same semantics.
        (Diag.Process Os, Socket Channel)? host = descriptors.Count == 0 ? TakeIdle() : null;
        host ??= HostLauncher.Launch(_host(), descriptors, s_warmEnvironment);
        // Payload first: launching the replacement forks a runtime that competes for the CPU.
        var handle = new ChildHandle(host.Value.Os, host.Value.Channel, bootstrap);
        Replenish();
        return handle;
    }

    private (Diag.Process, Socket)? TakeIdle()
    {
        lock (_lock)
        {
            while (_idle.TryDequeue(out var h))
            {
                if (IsAlive(h)) return h;
                // A spare that died (killed from outside, CPython test_forkserver_sigkill) is replaced, not used.
                h.Channel.Dispose();
                h.Os.Dispose();
            }
            return null;
        }
    }

    /// <summary>
    /// A dead spare shows as an exited process or, before the runtime has reaped it, as EOF on
    /// its channel (an idle spare never writes, so anything readable means its end closed).
    /// </summary>
    private static bool IsAlive((Diag.Process Os, Socket Channel) h)
    {
        try
        {
            if (h.Os.HasExited) return false;
            return !h.Channel.Poll(0, SelectMode.SelectRead);
        }
        catch (Exception e) when (e is InvalidOperationException or SocketException or ObjectDisposedException)
        {
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
                    var h = HostLauncher.Launch(_host(), [], s_warmEnvironment);
                    lock (_lock) _idle.Enqueue(h);
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
