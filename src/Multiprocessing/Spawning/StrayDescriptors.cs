using Microsoft.Win32.SafeHandles;
using Multiprocessing.Interop;

namespace Multiprocessing.Spawning;

/// <summary>
/// CPython spawns with <c>close_fds</c>: the child keeps only stdio and what it was given. .NET 10
/// closes nothing at exec, so every descriptor the parent had without close-on-exec arrives in
/// the child, which closes them itself, after the exec, so that none made inheritable by another
/// thread of the parent in the meantime slips through. The runtime opens its own descriptors
/// with close-on-exec, so the inheritable ones are the strays.
/// <para>
/// Linux: the slots of the descriptor table below its size are probed with <c>poll</c> (one call
/// per 256 slots), and each open one is asked with <c>fcntl</c>. The parent reads its table size
/// (<c>FDSize</c> in <c>/proc/self/status</c>, 64–256 in a typical app) after the fork and sends
/// it with the payload: the child's table is a copy of the parent's at the fork, and a table
/// never shrinks. Measured in a cold child: enumerating <c>/proc/self/fd</c> cost ~7 ms (first
/// use of directory enumeration, a <c>stat</c> per entry), opening <c>/proc/self/status</c>
/// itself ~5–9 ms (first use of <c>File.OpenHandle</c>), an <c>fcntl</c> per slot of 256 ~0.4 ms.
/// A listing made by the parent before the fork raced with its other threads. A forkserver spare
/// reads its own table size while idle. With a huge table, or without <c>/proc</c> (no size),
/// the open descriptors are enumerated.
/// </para>
/// </summary>
internal static class StrayDescriptors
{
    /// <summary>Above this many slots, enumerating the open descriptors is the cheaper scan.</summary>
    private const int MaxSlotsToProbe = 4096;

    /// <param name="channel">The child's channel, kept.</param>
    /// <param name="passed">Descriptors passed on purpose, kept.</param>
    /// <param name="tableSize">A bound on the descriptor numbers: the parent's table size read after the fork, or this process's own; 0 for unknown.</param>
    internal static void CloseInChild(int channel, int[] passed, int tableSize)
    {
        if (tableSize > 0 && tableSize <= MaxSlotsToProbe)
        {
            var open = new bool[Math.Max(0, tableSize - 3)]; // an array, not a stackalloc'd span: ByteCursor says why
            bool known = Libc.ProbeOpen(3, open);
            for (int i = 0; i < open.Length; i++)
            {
                if (open[i] || !known) CloseIfStray(3 + i, channel, passed);
            }
            return;
        }
        CloseListed(channel, passed);
    }

    // Apart and not inlined: a ReadyToRun method resolves the types it names on first entry, and
    // the listing's (a List, the directory enumeration) are a facade load in every child.
    [System.Runtime.CompilerServices.MethodImpl(System.Runtime.CompilerServices.MethodImplOptions.NoInlining)]
    private static void CloseListed(int channel, int[] passed)
    {
        string dir = OperatingSystem.IsLinux() ? "/proc/self/fd" : "/dev/fd";
        if (!Directory.Exists(dir)) return;
        var fds = new List<int>();
        foreach (string entry in Directory.EnumerateFileSystemEntries(dir))
        {
            if (ChildLaunch.ParseDescriptor(Path.GetFileName(entry)) is { } fd && fd > 2) fds.Add(fd);
        }
        foreach (int fd in fds) CloseIfStray(fd, channel, passed);
    }

    private static void CloseIfStray(int fd, int channel, int[] passed)
    {
        if (fd == channel) return;
        foreach (int keep in passed) if (fd == keep) return;
        if (!Libc.IsCloseOnExec(fd, out bool open) && open && !IsJitLog(fd)) Libc.Close(fd);
    }

    // Read once: null unless the runtime was asked to write its JIT log to a file.
    private static readonly string? s_jitLog =
        Environment.GetEnvironmentVariable("DOTNET_JitStdOutFile") ?? Environment.GetEnvironmentVariable("COMPlus_JitStdOutFile");

    /// <summary>
    /// The runtime opens its JIT log (<c>DOTNET_JitStdOutFile</c>) without close-on-exec before
    /// this library runs. Closed as a stray, the JIT went on writing into whatever took the
    /// number next: the signal pipe (a child died of "signal 32", a space character) or the
    /// channel (a forkserver child's exit report arrived garbled).
    /// </summary>
    private static bool IsJitLog(int fd) => s_jitLog is not null && LinksTo(fd, s_jitLog);

    // Apart: the path and number formatting it needs stay out of a child that has no JIT log.
    [System.Runtime.CompilerServices.MethodImpl(System.Runtime.CompilerServices.MethodImplOptions.NoInlining)]
    private static bool LinksTo(int fd, string path)
    {
        try
        {
            string? target = new FileInfo("/proc/self/fd/" + fd.ToString(System.Globalization.CultureInfo.InvariantCulture)).LinkTarget;
            return target is not null && string.Equals(target, Path.GetFullPath(path), StringComparison.Ordinal);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or ArgumentException or NotSupportedException)
        {
            return false;
        }
    }

    /// <summary>This process's descriptor table size (every open descriptor is below it), or null where there is no <c>/proc/self/status</c>.</summary>
    internal static int? TableSize()
    {
        if (!OperatingSystem.IsLinux()) return null;
        Span<byte> status = stackalloc byte[4096];
        int length;
        try
        {
            using SafeFileHandle file = File.OpenHandle("/proc/self/status");
            length = RandomAccess.Read(file, status, 0);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            return null;
        }
        return ParseTableSize(status[..length]);
    }

    /// <summary>The number after <c>FDSize:</c> in <c>/proc/&lt;pid&gt;/status</c> text (ASCII, parsed by hand: no culture data in a cold child).</summary>
    internal static int? ParseTableSize(ReadOnlySpan<byte> status)
    {
        // Loops, not MemoryExtensions.IndexOf: that would load the System.Memory facade here.
        ReadOnlySpan<byte> key = "\nFDSize:"u8;
        int at = 0;
        while (at + key.Length <= status.Length && !StartsAt(status, at, key)) at++;
        if (at + key.Length > status.Length) return null;
        int i = at + key.Length, value = 0, digits = 0;
        while (i < status.Length && (status[i] == (byte)' ' || status[i] == (byte)'\t')) i++;
        for (; i < status.Length && status[i] is >= (byte)'0' and <= (byte)'9' && digits < 9; i++, digits++) value = value * 10 + (status[i] - '0');
        return digits == 0 ? null : value;
    }

    private static bool StartsAt(ReadOnlySpan<byte> text, int at, ReadOnlySpan<byte> key)
    {
        for (int k = 0; k < key.Length; k++)
        {
            if (text[at + k] != key[k]) return false;
        }
        return true;
    }
}
