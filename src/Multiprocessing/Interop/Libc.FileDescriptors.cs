using System.Runtime.InteropServices;

namespace Multiprocessing.Interop;

internal static partial class Libc
{
    private const int F_GETFD = 1;
    private const int F_SETFD = 2;
    private const int FD_CLOEXEC = 1;

    [LibraryImport(Library, EntryPoint = "fcntl", SetLastError = true)]
    private static partial int Fcntl(int fd, int cmd, int arg);

    [LibraryImport(Library, EntryPoint = "close", SetLastError = true)]
    internal static partial int Close(int fd);

    private const short POLLNVAL = 0x20;

    [StructLayout(LayoutKind.Sequential)]
    private struct PollDescriptor
    {
        internal int Fd;
        internal short Events;
        internal short ReturnedEvents;
    }

    [LibraryImport(Library, EntryPoint = "poll", SetLastError = true)]
    private static unsafe partial int Poll(PollDescriptor* fds, nuint count, int timeoutMs);

    /// <summary>
    /// Sets <c>open[i]</c> to whether descriptor <c>first + i</c> is open, a system call per 256
    /// numbers rather than one per number: poll(2) with no events asked and no wait reports
    /// POLLNVAL for a number that is no open descriptor. False if poll failed (nothing is known).
    /// </summary>
    internal static unsafe bool ProbeOpen(int first, bool[] open)
    {
        const int Chunk = 256;
        PollDescriptor* fds = stackalloc PollDescriptor[Chunk];
        for (int start = 0; start < open.Length; start += Chunk)
        {
            int n = Math.Min(Chunk, open.Length - start);
            for (int i = 0; i < n; i++) fds[i] = new PollDescriptor { Fd = first + start + i };
            if (Poll(fds, (nuint)n, 0) < 0) return false;
            for (int i = 0; i < n; i++) open[start + i] = (fds[i].ReturnedEvents & POLLNVAL) == 0;
        }
        return true;
    }

    private const int EINTR = 4;

    [LibraryImport(Library, EntryPoint = "read", SetLastError = true)]
    private static unsafe partial nint Read(int fd, byte* buffer, nuint count);

    [LibraryImport(Library, EntryPoint = "write", SetLastError = true)]
    private static unsafe partial nint Write(int fd, byte* buffer, nuint count);

    /// <summary>read(2), retried when a signal interrupts it: the count read, 0 at end of file.</summary>
    internal static unsafe int Read(int fd, Span<byte> buffer)
    {
        fixed (byte* p = buffer) return Read(fd, p, buffer.Length);
    }

    /// <summary>The same into <paramref name="length"/> bytes at <paramref name="buffer"/>: the child host's reads take no span (ByteCursor says why).</summary>
    internal static unsafe int Read(int fd, byte* buffer, int length)
    {
        while (true)
        {
            nint n = Read(fd, buffer, (nuint)length);
            if (n >= 0) return (int)n;
            if (Errno != EINTR) throw Failed("read", fd, Errno);
        }
    }

    /// <summary>write(2) until all of <paramref name="data"/> is written, retried when a signal interrupts it.</summary>
    internal static unsafe void Write(int fd, ReadOnlySpan<byte> data)
    {
        fixed (byte* p = data)
        {
            int done = 0;
            while (done < data.Length)
            {
                nint n = Write(fd, p + done, (nuint)(data.Length - done));
                if (n >= 0) done += (int)n;
                else if (Errno != EINTR) throw Failed("write", fd, Errno);
            }
        }
    }

    /// <summary>True when <paramref name="fd"/> is open and will be closed by exec.</summary>
    internal static bool IsCloseOnExec(int fd, out bool open)
    {
        int flags = Fcntl(fd, F_GETFD, 0);
        open = flags >= 0;
        return open && (flags & FD_CLOEXEC) != 0;
    }

    /// <summary>Marks <paramref name="fd"/> inheritable (false) or close-on-exec (true).</summary>
    internal static void SetCloseOnExec(int fd, bool closeOnExec)
    {
        if (Fcntl(fd, F_SETFD, closeOnExec ? FD_CLOEXEC : 0) < 0)
            throw Failed("fcntl(F_SETFD)", fd, Errno);
    }

    // Out of line: a ReadyToRun method loads every type it names when first entered, and these
    // calls are on a spawned child's start path, which never throws.
    private static IOException Failed(string call, int fd, int errno) => new($"{call} failed on fd {fd} (errno {errno})");
}
