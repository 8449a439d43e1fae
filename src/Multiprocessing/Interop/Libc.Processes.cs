using System.Runtime.InteropServices;

namespace Multiprocessing.Interop;

internal static partial class Libc
{
    /// <summary>getppid(2): .NET has no API for this process's parent pid.</summary>
    [LibraryImport(Library, EntryPoint = "getppid")]
    internal static partial int GetParentPid();
}
