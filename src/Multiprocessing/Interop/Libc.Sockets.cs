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
    /// a socket (unlike an anonymous pipe) carries descriptors (SCM_RIGHTS), can be shut down to
    /// wake a reader blocked in another thread, and gets epoll-driven async I/O as a Connection.
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

    private const int SHUT_RDWR = 2; // Linux and the BSDs

    [LibraryImport(Library, EntryPoint = "shutdown", SetLastError = true)]
    private static partial int ShutdownSocket(SafeHandle socket, int how);

    /// <summary>
    /// shutdown(2) both ways: a blocked read returns end of stream, the peer sees end of stream.
    /// Errors (not connected, gone) are moot; <see cref="ObjectDisposedException"/> once the handle is closed.
    /// </summary>
    internal static void Shutdown(SafeHandle socket) => _ = ShutdownSocket(socket, SHUT_RDWR);

    private const int MSG_PEEK = 0x2;
    private static int MSG_DONTWAIT => OperatingSystem.IsLinux() ? 0x40 : 0x80;
    private static int EAGAIN => OperatingSystem.IsLinux() ? 11 : 35;

    /// <summary>
    /// recv(2) with MSG_DONTWAIT: what the socket has now, up to the buffer; 0 at the end of the
    /// stream; -1 when nothing is there yet. One call that both asks and takes: a poll for
    /// readability followed by a read was two, and with page-table isolation every system call
    /// on a forkserver child's way to its target also costs the TLB refills after it.
    /// </summary>
    internal static unsafe int ReceiveNow(int fd, byte* buffer, int length)
    {
        while (true)
        {
            nint n = Recv(fd, buffer, (nuint)length, MSG_DONTWAIT);
            if (n >= 0) return (int)n;
            int errno = Errno;
            if (errno == EAGAIN) return -1;
            if (errno != EINTR) throw Failed("recv", fd, errno);
        }
    }

    [LibraryImport(Library, EntryPoint = "send", SetLastError = true)]
    private static unsafe partial nint Send(int fd, byte* buffer, nuint length, int flags);

    /// <summary>
    /// send(2) of what the socket takes now, waiting in poll(2) while it takes nothing: the count
    /// sent, at least one byte. A Connection's descriptor is non-blocking (see its constructor),
    /// and .NET emulates a blocking Send on it by parking the thread on its epoll engine whenever
    /// the socket's buffer is full: a 16 MiB message filled it thousands of times, each a round of
    /// sched_yield spinning, a futex wait and the engine's thread in between. A failure is the
    /// <see cref="System.Net.Sockets.SocketException"/> Socket.Send throws ("Broken pipe", …).
    /// </summary>
    internal static unsafe int SendSome(SafeHandle socket, ReadOnlySpan<byte> data)
    {
        bool added = false;
        socket.DangerousAddRef(ref added);
        try
        {
            int fd = (int)socket.DangerousGetHandle();
            fixed (byte* p = data)
            {
                while (true)
                {
                    nint n = Send(fd, p, (nuint)data.Length, MSG_DONTWAIT | (OperatingSystem.IsLinux() ? MSG_NOSIGNAL : 0));
                    if (n > 0) return (int)n;
                    if (n == 0) throw new IOException("the socket accepted no data");
                    int errno = Errno;
                    if (errno == EAGAIN) WaitWritable(fd);
                    else if (errno != EINTR) throw SocketFailure(errno);
                }
            }
        }
        finally
        {
            if (added) socket.DangerousRelease();
        }
    }

    /// <summary>
    /// recv(2) of what the socket has, waiting in poll(2) while it has nothing: the count received,
    /// 0 at the end of the stream. <paramref name="waitFirst"/> waits before the first try, for
    /// bytes that have likely not come yet (a try that finds nothing is one call more); without
    /// it the first try comes first, for bytes that likely have. .NET's blocking Receive on a
    /// Connection's non-blocking descriptor (see its constructor) waits on its epoll engine when
    /// nothing is there, and the engine's completion goes through the thread pool, whose workers
    /// then spin in sched_yield: a fifth of all CPU samples of 16 MiB round-trips. A failure is
    /// the <see cref="System.Net.Sockets.SocketException"/> Socket.Receive throws.
    /// </summary>
    internal static unsafe int ReceiveSome(SafeHandle socket, Span<byte> buffer, bool waitFirst)
    {
        bool added = false;
        socket.DangerousAddRef(ref added);
        try
        {
            int fd = (int)socket.DangerousGetHandle();
            if (waitFirst) WaitReadable(fd);
            fixed (byte* p = buffer)
            {
                while (true)
                {
                    nint n = Recv(fd, p, (nuint)buffer.Length, MSG_DONTWAIT);
                    if (n >= 0) return (int)n;
                    int errno = Errno;
                    if (errno == EAGAIN) WaitReadable(fd); // another reader took what woke us
                    else if (errno != EINTR) throw SocketFailure(errno);
                }
            }
        }
        finally
        {
            if (added) socket.DangerousRelease();
        }
    }

    /// <summary>The exception .NET's own socket calls throw for <paramref name="errno"/> ("Broken pipe", "Connection reset by peer").</summary>
    private static System.Net.Sockets.SocketException SocketFailure(int errno)
    {
        Marshal.SetLastPInvokeError(errno); // the parameterless constructor reads it
        return new System.Net.Sockets.SocketException();
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

// Descriptor passing over an AF_UNIX socket (SCM_RIGHTS), as CPython's forkserver passes a start's
// descriptors to the process it forks (multiprocessing.reduction.sendfds/recvfds). Linux layouts
// (glibc; musl's padded ints read the same on little-endian machines); elsewhere callers keep to
// plain reads and writes.
internal static partial class Libc
{
    [StructLayout(LayoutKind.Sequential)]
    private unsafe struct IoVector
    {
        public byte* Base;
        public nuint Length;
    }

    [StructLayout(LayoutKind.Sequential)]
    private unsafe struct MessageHeader
    {
        public void* Name;
        public uint NameLength;
        public IoVector* Vectors;
        public nuint VectorCount;
        public byte* Control;
        public nuint ControlLength;
        public int Flags;
    }

    private const int SOL_SOCKET = 1, SCM_RIGHTS = 1;
    private const int MSG_CTRUNC = 0x8, MSG_NOSIGNAL = 0x4000, MSG_CMSG_CLOEXEC = 0x40000000;
    private const int ControlHeaderSize = 16; // struct cmsghdr: size_t len, int level, int type

    /// <summary>The most descriptors one message may carry (the kernel's SCM_MAX_FD).</summary>
    internal const int MaxPassedDescriptors = 253;

    private static int ControlSpace(int descriptors) => ControlHeaderSize + (descriptors * sizeof(int) + 7 & ~7);

    [LibraryImport(Library, EntryPoint = "sendmsg", SetLastError = true)]
    private static unsafe partial nint SendMessage(int fd, MessageHeader* message, int flags);

    [LibraryImport(Library, EntryPoint = "recvmsg", SetLastError = true)]
    private static unsafe partial nint ReceiveMessage(int fd, MessageHeader* message, int flags);

    /// <summary>
    /// Sends the first bytes of <paramref name="data"/> with <paramref name="descriptors"/>
    /// attached (the receiver gets its own copies, close-on-exec); returns how many bytes went,
    /// at least one. Waits for room on a non-blocking socket.
    /// </summary>
    internal static unsafe int SendWithDescriptors(SafeHandle socket, ReadOnlySpan<byte> data, ReadOnlySpan<int> descriptors)
    {
        if (data.IsEmpty || descriptors.IsEmpty || descriptors.Length > MaxPassedDescriptors)
            throw new ArgumentException("one byte or more, and 1 to 253 descriptors");
        bool added = false;
        socket.DangerousAddRef(ref added);
        try
        {
            int fd = (int)socket.DangerousGetHandle();
            int space = ControlSpace(descriptors.Length);
            byte* control = stackalloc byte[space];
            new Span<byte>(control, space).Clear();
            *(nuint*)control = (nuint)(ControlHeaderSize + descriptors.Length * sizeof(int));
            ((int*)control)[2] = SOL_SOCKET;
            ((int*)control)[3] = SCM_RIGHTS;
            descriptors.CopyTo(new Span<int>(control + ControlHeaderSize, descriptors.Length));
            fixed (byte* p = data)
            {
                var vector = new IoVector { Base = p, Length = (nuint)data.Length };
                var header = new MessageHeader { Vectors = &vector, VectorCount = 1, Control = control, ControlLength = (nuint)space };
                while (true)
                {
                    nint n = SendMessage(fd, &header, MSG_NOSIGNAL);
                    if (n > 0) return (int)n;
                    int errno = Errno;
                    if (errno == EAGAIN) WaitWritable(fd);
                    else if (errno != EINTR) throw Failed("sendmsg", fd, errno);
                }
            }
        }
        finally
        {
            if (added) socket.DangerousRelease();
        }
    }

    private const short POLLIN = 0x1, POLLOUT = 0x4;

    private static void WaitWritable(int fd) => WaitFor(fd, POLLOUT);

    private static void WaitReadable(int fd) => WaitFor(fd, POLLIN);

    private static unsafe void WaitFor(int fd, short events)
    {
        var entry = new PollDescriptor { Fd = fd, Events = events };
        while (Poll(&entry, 1, -1) < 0)
            if (Errno != EINTR) throw Failed("poll", fd, Errno);
    }

    /// <summary>
    /// recvmsg(2) into <paramref name="buffer"/>: the count read, 0 at the end of the stream, -1
    /// when <paramref name="dontWait"/> and nothing is there yet. Descriptors that came with the
    /// bytes are appended to <paramref name="received"/> (close-on-exec).
    /// </summary>
    internal static unsafe int ReceiveWithDescriptors(int fd, byte* buffer, int length, bool dontWait, ref int[]? received)
    {
        int space = ControlSpace(MaxPassedDescriptors);
        byte* control = stackalloc byte[space];
        var vector = new IoVector { Base = buffer, Length = (nuint)length };
        var header = new MessageHeader { Vectors = &vector, VectorCount = 1, Control = control, ControlLength = (nuint)space };
        nint n;
        while (true)
        {
            n = ReceiveMessage(fd, &header, MSG_CMSG_CLOEXEC | (dontWait ? MSG_DONTWAIT : 0));
            if (n >= 0) break;
            int errno = Errno;
            if (dontWait && errno == EAGAIN) return -1;
            if (errno != EINTR) throw Failed("recvmsg", fd, errno);
            header.ControlLength = (nuint)space;
        }
        for (nuint at = 0; at + ControlHeaderSize <= header.ControlLength;)
        {
            nuint size = *(nuint*)(control + at);
            if (size < ControlHeaderSize || at + size > header.ControlLength) break;
            int* fields = (int*)(control + at);
            if (fields[2] == SOL_SOCKET && fields[3] == SCM_RIGHTS)
            {
                // An array, not a List: the List's facade (System.Collections) would load in every child.
                int count = (int)(size - ControlHeaderSize) / sizeof(int), had = received?.Length ?? 0;
                Array.Resize(ref received, had + count);
                new ReadOnlySpan<int>(control + at + ControlHeaderSize, count).CopyTo(new Span<int>(received, had, count));
            }
            at += size + 7 & ~(nuint)7;
        }
        if ((header.Flags & MSG_CTRUNC) != 0)
            throw DescriptorsDropped(fd);
        return (int)n;
    }

    /// <summary>The same into a span (tests; the child host reads into a pinned array: ByteCursor says why).</summary>
    internal static unsafe int ReceiveWithDescriptors(int fd, Span<byte> buffer, bool dontWait, ref int[]? received)
    {
        fixed (byte* p = buffer) return ReceiveWithDescriptors(fd, p, buffer.Length, dontWait, ref received);
    }

    // Out of line, as in Libc.FileDescriptors.
    private static IOException DescriptorsDropped(int fd) => new($"recvmsg on fd {fd}: descriptors sent with the data did not fit and were dropped");
}
