using System.Net;
using System.Net.Sockets;
using System.Security.Cryptography;

namespace Multiprocessing.Connections;

/// <summary>
/// Listener/Client addresses as CPython's <c>address_type</c> sees them: a string is a Unix
/// socket path (a leading NUL: Linux's abstract namespace, no file), an <see cref="IPEndPoint"/>
/// is TCP (Python's <c>(host, port)</c> tuple). A <c>\\</c> string is a Windows pipe name,
/// which CPython rejects off Windows with its own text, as we do.
/// </summary>
internal static class ListenerAddress
{
    private const string NameAlphabet = "abcdefghijklmnopqrstuvwxyz0123456789_"; // tempfile's

    /// <summary>The endpoint for <paramref name="address"/>, or <see cref="ArgumentException"/> with CPython's text.</summary>
    internal static EndPoint ToEndPoint(object address) => address switch
    {
        // No paramName on these: the message stays CPython's exact text.
        string s when s.StartsWith(@"\\", StringComparison.Ordinal) => throw new ArgumentException("Family AF_PIPE is not recognized."),
        string s => new UnixDomainSocketEndPoint(s),
        IPEndPoint ip => ip,
        _ => throw new ArgumentException($"address type of {address} unrecognized"),
    };

    /// <summary>True for a Unix socket path that lives in the file system (not the abstract namespace).</summary>
    internal static bool IsFilePath(object address) => address is string s && !s.StartsWith('\0');

    /// <summary>A stream socket of the endpoint's family.</summary>
    internal static Socket NewSocket(EndPoint endPoint) => endPoint is UnixDomainSocketEndPoint
        ? new Socket(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified)
        : new Socket(endPoint.AddressFamily, SocketType.Stream, ProtocolType.Tcp);

    /// <summary>
    /// A fresh path <c>listener-XXXXXXXX</c> in this process's private temp directory, as
    /// CPython's <c>arbitrary_address('AF_UNIX')</c>; the directory (mode 0700) hides it from
    /// other users, and its random name makes a collision with a live socket vanishingly rare.
    /// </summary>
    internal static string Arbitrary() =>
        Path.Combine(UnixSocketFiles.TempDirectory, "listener-" + RandomNumberGenerator.GetString(NameAlphabet, 8));
}
