using System.Runtime.InteropServices;

namespace Multiprocessing.Interop;

internal static partial class Libc
{
    /// <summary>getppid(2): .NET has no API for this process's parent pid.</summary>
    [LibraryImport(Library, EntryPoint = "getppid")]
    internal static partial int GetParentPid();

    private const int P_PID = 1, WEXITED = 4, WNOHANG = 1, WNOWAIT = 0x01000000, CLD_EXITED = 1;

    /// <summary>The SIGCHLD fields of a 64-bit Linux <c>siginfo_t</c> (128 bytes; the union starts at 16).</summary>
    [StructLayout(LayoutKind.Explicit, Size = 128)]
    private struct ChildSignalInfo
    {
        [FieldOffset(8)] public int Code;
        [FieldOffset(16)] public int Pid;
        [FieldOffset(24)] public int Status;
    }

    /// <summary>64-bit Linux: the <see cref="ChildSignalInfo"/> layout is that platform's.</summary>
    internal static bool CanPeekExit => OperatingSystem.IsLinux() && Environment.Is64BitProcess;

    [LibraryImport(Library, EntryPoint = "waitid", SetLastError = true)]
    private static partial int WaitId(int idType, int id, ref ChildSignalInfo info, int options);

    /// <summary>
    /// Whether child <paramref name="pid"/> has terminated, looked at without reaping it
    /// (<c>waitid</c> with <c>WNOWAIT</c>): the runtime's SIGCHLD handler reaps every child that
    /// <c>System.Diagnostics.Process</c> started, and fails fast if someone else did
    /// (dotnet-process-notes §4d). True with <paramref name="exitCode"/> in
    /// <see cref="System.Diagnostics.Process.ExitCode"/>'s form (128+N for a death by signal N);
    /// false while it runs; null once it is no longer waitable (the runtime reaped it already).
    /// Only where <see cref="CanPeekExit"/>.
    /// </summary>
    internal static bool? PeekExit(int pid, out int exitCode)
    {
        exitCode = 0;
        var info = default(ChildSignalInfo); // si_pid stays 0 while the child runs
        if (WaitId(P_PID, pid, ref info, WEXITED | WNOHANG | WNOWAIT) != 0) return null;
        if (info.Pid != pid) return false;
        exitCode = info.Code == CLD_EXITED ? info.Status : 128 + info.Status;
        return true;
    }
}
