using System.Runtime.InteropServices;

namespace Multiprocessing.Interop;

internal static partial class Libc
{
    private const int AF_UNIX = 1;
    private const int SOCK_STREAM = 1;
    private const int SOCK_CLOEXEC = 0x80000; // Linux

    [LibraryImport(Library, EntryPoint = "socketpair", SetLastError = true)]
    private static unsafe partial int SocketPair(int domain, int type, int protocol, int* sv);

    /// <summary>
    /// A connected AF_UNIX stream pair, both ends close-on-exec. .NET 10 has no socketpair API;
    /// a socket (unlike an anonymous pipe) gets epoll-driven async I/O, so a parent waiting on
    /// a hundred children blocks no thread.
    /// </summary>
    internal static unsafe (int, int) CreateSocketPair()
    {
        int* sv = stackalloc int[2];
        if (SocketPair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) != 0)
            throw new IOException($"socketpair failed (errno {Errno})");
        return (sv[0], sv[1]);
    }

    [LibraryImport(Library, EntryPoint = "recv", SetLastError = true)]
    private static unsafe partial nint Recv(int fd, byte* buffer, nuint length, int flags);

    private const int MSG_PEEK = 0x2;
    private static int MSG_DONTWAIT => OperatingSystem.IsLinux() ? 0x40 : 0x80;
    private static int EAGAIN => OperatingSystem.IsLinux() ? 11 : 35;

    /// <summary>
    /// recv(2) with MSG_DONTWAIT: what the socket has now, up to the buffer; 0 at the end of the
    /// stream; -1 when nothing is there yet. One call that both asks and takes: a poll for
    /// readability followed by a read was two, and with page-table isolation every system call
    /// on a forkserver child's way to its target also costs the TLB refills after it.
    /// </summary>
    internal static unsafe int ReceiveNow(int fd, Span<byte> buffer)
    {
        fixed (byte* p = buffer)
        {
            while (true)
            {
                nint n = Recv(fd, p, (nuint)buffer.Length, MSG_DONTWAIT);
                if (n >= 0) return (int)n;
                int errno = Errno;
                if (errno == EAGAIN) return -1;
                if (errno != EINTR) throw new IOException($"recv failed on fd {fd} (errno {errno})");
            }
        }
    }

    /// <summary>
    /// Whether the peer of a stream socket has gone with nothing left to read, asked without
    /// waiting and without taking anything: one recv(2) with MSG_PEEK|MSG_DONTWAIT (0 = end of
    /// stream, EAGAIN = open and empty). .NET has no per-call non-blocking receive, and a poll
    /// for readability followed by a count of what is buffered was two calls, between which
    /// another reader of the socket could take the bytes and make an open socket look closed.
    /// </summary>
    internal static unsafe bool PeerClosed(SafeHandle socket)
    {
        bool added = false;
        socket.DangerousAddRef(ref added);
        try
        {
            byte b;
            while (true)
            {
                nint n = Recv((int)socket.DangerousGetHandle(), &b, 1, MSG_PEEK | MSG_DONTWAIT);
                if (n >= 0) return n == 0;
                int errno = Errno;
                if (errno != EINTR) return errno != EAGAIN; // ECONNRESET and the like: gone too
            }
        }
        finally
        {
            if (added) socket.DangerousRelease();
        }
    }
}
