using System.Net;
using System.Net.Sockets;
using System.Security.Authentication;
using Multiprocessing.Connections;

namespace Multiprocessing;

/// <summary>
/// A bound, listening socket that hands out authenticated <see cref="Connection"/>s (CPython
/// <c>multiprocessing.connection.Listener</c>). It speaks CPython's wire protocol, so a Python
/// <c>multiprocessing.connection.Client</c> can connect to it, and <see cref="Client.Connect(object, AuthenticationKey?)"/>
/// can connect to a Python <c>Listener</c>.
/// </summary>
/// <remarks>
/// With an <c>authKey</c>, <see cref="Accept"/> runs CPython's mutual HMAC challenge before
/// returning: it sends the 3.12+ form (<c>#CHALLENGE#{sha256}</c> + 40 random bytes) and also
/// accepts the raw HMAC-MD5 answer a Python ≤3.11 client gives to it, so peers of both
/// generations authenticate. Without a key (CPython's <c>authkey=None</c>) nothing is checked:
/// pass <c>Process.Current.AuthKey</c> to share the key a process tree already has.
/// </remarks>
/// <example>
/// <code>
/// using var listener = new Listener(new IPEndPoint(IPAddress.Loopback, 6000), authKey: "secret"u8.ToArray());
/// using Connection conn = listener.Accept();
/// conn.SendBytes("hello"u8);
/// </code>
/// </example>
public sealed class Listener : IDisposable
{
    private readonly AuthenticationKey? _authKey;
    private readonly string? _socketFile;
    private Socket? _socket;

    /// <summary>
    /// Binds and listens. <paramref name="address"/>: a string is a Unix socket path (a leading
    /// <c>'\0'</c> names Linux's abstract namespace), an <see cref="IPEndPoint"/> is TCP (port 0:
    /// an ephemeral port, see <see cref="Address"/>); null or "" is a fresh Unix path in a private
    /// temp directory.
    /// </summary>
    /// <param name="address">Where to listen.</param>
    /// <param name="authKey">The shared key peers must prove they hold; null: no authentication.</param>
    /// <param name="backlog">Pending connections the OS queues before refusing more.</param>
    /// <exception cref="ArgumentException">The address is of another type (CPython: <c>address type of … unrecognized</c>).</exception>
    /// <exception cref="SocketException">Binding failed, e.g. the address is already in use.</exception>
    public Listener(object? address = null, AuthenticationKey? authKey = null, int backlog = 1)
    {
        // CPython tests truthiness: None and '' both mean "pick an address".
        if (address is null or "") address = ListenerAddress.Arbitrary();
        EndPoint endPoint = ListenerAddress.ToEndPoint(address);
        Socket socket = ListenerAddress.NewSocket(endPoint);
        try
        {
            // As CPython on POSIX: a restarted server can rebind a port still in TIME_WAIT.
            if (endPoint is IPEndPoint) socket.SetSocketOption(SocketOptionLevel.Socket, SocketOptionName.ReuseAddress, true);
            socket.Bind(endPoint);
            socket.Listen(backlog);
        }
        catch
        {
            socket.Dispose();
            throw;
        }
        if (ListenerAddress.IsFilePath(address))
        {
            _socketFile = (string)address;
            UnixSocketFiles.Track(_socketFile);
        }
        _socket = socket;
        _authKey = authKey;
        Address = endPoint is IPEndPoint ? socket.LocalEndPoint! : address;
    }

    /// <summary>
    /// The bound address: the socket path (a string) for Unix sockets, the <see cref="IPEndPoint"/>
    /// actually bound (with the real port) for TCP. Still readable after <see cref="Close"/>.
    /// </summary>
    public object Address { get; }

    /// <summary>
    /// The peer address of the last accepted connection: its <see cref="IPEndPoint"/> for TCP,
    /// <c>""</c> for a Unix socket (clients are unnamed, CPython shows <c>''</c>); null before any.
    /// </summary>
    public object? LastAccepted { get; private set; }

    /// <summary>How long a peer may take to authenticate; tests shorten it.</summary>
    internal TimeSpan HandshakeTimeout { get; set; } = Handshake.DefaultTimeout;

    /// <summary>
    /// Waits for a connection and, with a key, authenticates it both ways before returning it.
    /// </summary>
    /// <exception cref="InvalidOperationException"><c>listener is closed</c>, also when closed while waiting.</exception>
    /// <exception cref="AuthenticationException">The peer failed the challenge (<c>digest received was wrong</c>), rejected ours
    /// (<c>digest sent was rejected</c>), broke the protocol, or took over a minute.</exception>
    /// <exception cref="EndOfStreamException">The peer closed during the handshake.</exception>
    public Connection Accept()
    {
        Socket peer;
        try
        {
            peer = (_socket ?? throw Closed()).Accept();
        }
        catch (Exception e) when ((e is SocketException or ObjectDisposedException) && _socket is null) // Close() ran while we waited
        {
            throw Closed();
        }
        LastAccepted = PeerAddress(peer);
        try
        {
            if (_authKey is not null) Handshake.AsListener(peer, _authKey, HandshakeTimeout);
            return Connection.FromSocket(peer);
        }
        catch
        {
            peer.Dispose(); // a peer that failed the handshake never becomes a Connection
            throw;
        }
    }

    /// <summary>
    /// Async <see cref="Accept"/>: neither the wait nor the handshake blocks a thread.
    /// </summary>
    /// <exception cref="OperationCanceledException"><paramref name="cancellationToken"/> was cancelled.</exception>
    /// <inheritdoc cref="Accept" path="/exception"/>
    public async Task<Connection> AcceptAsync(CancellationToken cancellationToken = default)
    {
        Socket peer;
        try
        {
            peer = await (_socket ?? throw Closed()).AcceptAsync(cancellationToken).ConfigureAwait(false);
        }
        catch (Exception e) when ((e is SocketException or ObjectDisposedException) && _socket is null) // Close() ran while we waited
        {
            throw Closed();
        }
        LastAccepted = PeerAddress(peer);
        try
        {
            if (_authKey is not null)
                await Handshake.AsListenerAsync(peer, _authKey, HandshakeTimeout, cancellationToken).ConfigureAwait(false);
            return Connection.FromSocket(peer);
        }
        catch
        {
            peer.Dispose();
            throw;
        }
    }

    /// <summary>
    /// Stops listening and removes the socket file of a Unix listener. Idempotent; a blocked
    /// <see cref="Accept"/> then throws <c>listener is closed</c>. Accepted connections stay open.
    /// </summary>
    public void Close()
    {
        Socket? socket = Interlocked.Exchange(ref _socket, null);
        if (socket is null) return;
        try
        {
            socket.Dispose();
        }
        finally
        {
            if (_socketFile is not null) UnixSocketFiles.Unlink(_socketFile);
        }
    }

    /// <summary>Same as <see cref="Close"/>.</summary>
    public void Dispose() => Close();

    private static object PeerAddress(Socket peer) => peer.RemoteEndPoint is IPEndPoint ip ? ip : "";

    private static InvalidOperationException Closed() => new("listener is closed");
}
