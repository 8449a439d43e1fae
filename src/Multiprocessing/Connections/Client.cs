using System.Net;
using System.Net.Sockets;
using System.Security.Authentication;
using Multiprocessing.Connections;

namespace Multiprocessing;

/// <summary>
/// Connects to a <see cref="Listener"/> — ours or a CPython <c>multiprocessing.connection.Listener</c>
/// (CPython <c>multiprocessing.connection.Client</c>).
/// </summary>
/// <example>
/// <code>
/// using Connection conn = Client.Connect("/tmp/app.sock", authKey: "secret"u8.ToArray());
/// byte[] reply = conn.RecvBytes();
/// </code>
/// </example>
public static class Client
{
    /// <summary>
    /// Connects to <paramref name="address"/> (a Unix socket path string, or an
    /// <see cref="IPEndPoint"/> for TCP) and, with a key, runs CPython's mutual challenge:
    /// first proving we hold the key, then checking that the listener does. A Python 3.11
    /// listener's MD5-only challenge is answered in its legacy form, a 3.12+ one in the
    /// <c>{digest}</c> form it asks for.
    /// </summary>
    /// <param name="address">The listener's <see cref="Listener.Address"/>.</param>
    /// <param name="authKey">The listener's key; null: no authentication (the listener must not expect any).</param>
    /// <exception cref="ArgumentException">The address is of another type (CPython: <c>address type of … unrecognized</c>).</exception>
    /// <exception cref="FileNotFoundException">No socket file at the Unix path.</exception>
    /// <exception cref="SocketException">The connection failed, e.g. refused.</exception>
    /// <exception cref="AuthenticationException">The listener rejected our answer (<c>digest sent was rejected</c>) or
    /// failed our challenge (<c>digest received was wrong</c>), broke the protocol, or took over a minute.</exception>
    /// <exception cref="EndOfStreamException">The listener closed during the handshake.</exception>
    public static Connection Connect(object address, AuthenticationKey? authKey = null) =>
        Connect(address, authKey, Handshake.DefaultTimeout);

    /// <summary><see cref="Connect(object, AuthenticationKey?)"/> with a handshake deadline; tests shorten it.</summary>
    internal static Connection Connect(object address, AuthenticationKey? authKey, TimeSpan handshakeTimeout)
    {
        ArgumentNullException.ThrowIfNull(address);
        EndPoint endPoint = ListenerAddress.ToEndPoint(address);
        Socket socket = ListenerAddress.NewSocket(endPoint);
        try
        {
            ConnectTo(socket, endPoint, address);
            if (authKey is not null) Handshake.AsClient(socket, authKey, handshakeTimeout);
            return Connection.FromSocket(socket);
        }
        catch
        {
            socket.Dispose();
            throw;
        }
    }

    private static void ConnectTo(Socket socket, EndPoint endPoint, object address)
    {
        try
        {
            socket.Connect(endPoint);
        }
        catch (SocketException e) when (ListenerAddress.IsFilePath(address) && !Path.Exists((string)address))
        {
            // .NET reports ENOENT as "Cannot assign requested address"; CPython says FileNotFoundError.
            throw new FileNotFoundException("No such file or directory", (string)address, e);
        }
    }
}
