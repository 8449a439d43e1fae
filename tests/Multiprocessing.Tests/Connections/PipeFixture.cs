using Multiprocessing.Interop;
using System.Net.Sockets;

namespace Multiprocessing.Tests.Connections;

/// <summary>Base of the single-process connection tests: pipes and socket pairs closed when the test ends.</summary>
public abstract class PipeFixture : IDisposable
{
    protected static readonly TimeSpan Long = TimeSpan.FromSeconds(60);
    private readonly List<IDisposable> _open = [];

    protected (Connection, Connection) Pipe(bool duplex = true)
    {
        (Connection a, Connection b) = Connection.Pipe(duplex);
        _open.Add(a);
        _open.Add(b);
        return (a, b);
    }

    protected (Socket, Socket) SocketPair()
    {
        (int fd0, int fd1) = Libc.CreateSocketPair();
        var s0 = new Socket(new SafeSocketHandle(fd0, ownsHandle: true));
        var s1 = new Socket(new SafeSocketHandle(fd1, ownsHandle: true));
        _open.Add(s0);
        _open.Add(s1);
        return (s0, s1);
    }

    public void Dispose()
    {
        foreach (IDisposable d in _open) d.Dispose();
        GC.SuppressFinalize(this);
    }
}
