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
            throw new IOException($"fcntl(F_SETFD) failed on fd {fd} (errno {Errno})");
    }
}
