using System.Runtime.InteropServices;

namespace Multiprocessing.Interop;

/// <summary>
/// The libc calls .NET 10 has no BCL API for. One partial per OS concern:
/// <c>Libc.Signals.cs</c>, <c>Libc.FileDescriptors.cs</c>, <c>Libc.Sockets.cs</c>, <c>Libc.Processes.cs</c>,
/// <c>Libc.Memory.cs</c>.
/// </summary>
internal static partial class Libc
{
    private const string Library = "libc";

    /// <summary>errno after the last failed call on this thread.</summary>
    internal static int Errno => Marshal.GetLastPInvokeError();
}
