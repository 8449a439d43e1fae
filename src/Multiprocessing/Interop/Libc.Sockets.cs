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
}
