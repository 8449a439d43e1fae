using System.Text;
using Multiprocessing.Interop;

namespace Multiprocessing.Spawning;

/// <summary>
/// CPython spawns with <c>close_fds</c>: the child keeps only stdio and what it was given. .NET 10
/// closes nothing at exec, so every descriptor the parent has without close-on-exec reaches the
/// child. The parent lists those (its descriptor table is at hand and its code is warm) and the
/// child closes them: a scan of <c>/proc/self/fd</c> in the child cost ~7 ms of its cold start,
/// almost all of it first-use cost of directory enumeration.
/// </summary>
internal static class StrayDescriptors
{
    internal const string Variable = "MULTIPROCESSING_STRAY_FDS";

    /// <summary>
    /// In the parent, under <see cref="HostLauncher.SpawnLock"/>: its inheritable descriptors
    /// other than stdio, the child's channel and the ones passed on purpose; null for none.
    /// The runtime opens all of its own with close-on-exec, so these are the app's or native
    /// code's. One made by another thread between this scan and the exec is not listed.
    /// </summary>
    internal static string? List(int channel, IReadOnlyList<int> passed)
    {
        string dir = OperatingSystem.IsLinux() ? "/proc/self/fd" : "/dev/fd";
        if (!Directory.Exists(dir)) return null;
        StringBuilder? list = null;
        foreach (string entry in Directory.EnumerateFileSystemEntries(dir))
        {
            if (ChildHost.ParseDescriptor(Path.GetFileName(entry)) is not { } fd || fd <= 2 || fd == channel || passed.Contains(fd))
                continue;
            if (Libc.IsCloseOnExec(fd, out bool open) || !open) continue;
            list = list is null ? new StringBuilder() : list.Append(',');
            list.Append(fd);
        }
        return list?.ToString();
    }

    /// <summary>
    /// In the child: closes each listed descriptor that is still open and inheritable. A listed
    /// number that is close-on-exec now was closed by the exec and reused by the runtime.
    /// </summary>
    internal static void CloseListed(int[] listed)
    {
        foreach (int fd in listed)
        {
            if (!Libc.IsCloseOnExec(fd, out bool open) && open) Libc.Close(fd);
        }
    }
}
