using System.Net.Sockets;
using System.Runtime.CompilerServices;
using Multiprocessing.Interop;
using Multiprocessing.Wire;

namespace Multiprocessing;

/// <summary>
/// One end of a message channel (CPython <c>multiprocessing.connection.Connection</c>):
/// length-prefixed messages in CPython's framing over a socket, so a CPython peer can read them.
/// Give an end to a child as a <see cref="Process"/> argument, a captured variable or a field of a
/// <see cref="Process"/> subclass; the child can use it as soon as it runs.
/// </summary>
/// <remarks>
/// Errors: a closed end, or one used against its direction, throws
/// <see cref="InvalidOperationException"/> (<c>handle is closed</c>, <c>connection is read-only</c>,
/// <c>connection is write-only</c>); receiving after the peer closed throws
/// <see cref="EndOfStreamException"/>; a frame that is malformed, longer than allowed or cut short
/// throws <see cref="InvalidDataException"/> (<c>bad message length</c>,
/// <c>got end of file during message</c>); other socket failures are <see cref="IOException"/>s.
/// Sends from several threads never interleave their frames, nor do receives.
/// </remarks>
/// <example>
/// <code>
/// var (parentEnd, childEnd) = Connection.Pipe();
/// var p = new Process(() => childEnd.Send(childEnd.Recv&lt;int&gt;() * 2));
/// p.Start();
/// parentEnd.Send(21);
/// int answer = parentEnd.Recv&lt;int&gt;();   // 42
/// p.Join();
/// </code>
/// </example>
public sealed partial class Connection : IDisposable
{
    private readonly Lock _lock = new();
    private readonly SemaphoreSlim _sendGate = new(1, 1);
    private readonly SemaphoreSlim _recvGate = new(1, 1);
    private Socket? _socket;
    private volatile bool _readable;
    private long _maxMessageLength = Framing.DefaultMaxMessageLength;

    private Connection(Socket socket, bool readable, bool writable)
    {
        if (!readable && !writable)
            throw new ArgumentException("at least one of `readable` and `writable` must be True");
        // O_NONBLOCK lives on the open file description, which every process holding this end
        // shares. A .NET socket that believes its descriptor blocks fails its calls with EAGAIN
        // once another process's runtime makes it non-blocking (any async call does). Switching
        // to non-blocking and back leaves the descriptor non-blocking for good with blocking
        // calls emulated, so every .NET process sharing the end agrees on the mode.
        socket.Blocking = false;
        socket.Blocking = true;
        _socket = socket;
        _readable = readable;
        Writable = writable;
    }

    /// <summary>Wraps a connected stream socket; the connection owns it from now on.</summary>
    internal static Connection FromSocket(Socket socket, bool readable = true, bool writable = true) =>
        new(socket, readable, writable);

    /// <summary>Wraps a descriptor this process owns (one inherited from the parent).</summary>
    internal static Connection FromDescriptor(int fd, bool readable, bool writable) =>
        new(new Socket(new SafeSocketHandle(fd, ownsHandle: true)), readable, writable);

    /// <summary>
    /// Two connected connections over a Unix socket pair. Duplex (the default): both ends send and
    /// receive. <c>Pipe(false)</c> returns <c>(reader, writer)</c>, in that order, as CPython does.
    /// </summary>
    /// <example>
    /// <code>
    /// var (reader, writer) = Connection.Pipe(duplex: false);
    /// writer.Send("hello");
    /// string s = reader.Recv&lt;string&gt;();
    /// </code>
    /// </example>
    public static (Connection, Connection) Pipe(bool duplex = true)
    {
        (int fd0, int fd1) = Libc.CreateSocketPair();
        Connection a, b;
        try
        {
            a = FromDescriptor(fd0, readable: true, writable: duplex);
        }
        catch
        {
            Libc.Close(fd0);
            Libc.Close(fd1);
            throw;
        }
        try
        {
            b = FromDescriptor(fd1, readable: duplex, writable: true);
        }
        catch
        {
            a.Dispose();
            Libc.Close(fd1);
            throw;
        }
        if (a.Writable) a.EnlargeSendBuffer();
        b.EnlargeSendBuffer();
        return (a, b);
    }

    /// <summary>What a <see cref="Pipe"/> end asks for as its send buffer (SO_SNDBUF; the kernel's default is 208 KiB).</summary>
    private const int PipeSendBuffer = 1024 * 1024;

    /// <summary>
    /// A larger send buffer, so a large message crosses in fewer rounds of the writer filling the
    /// socket and the reader draining it (each a wake-up on both sides): 16 MiB round-trips
    /// 1,520–1,620 → 1,770–2,030 MiB/s on this machine (four alternating runs). A limit, not an
    /// allocation: an idle pipe holds nothing. The kernel caps it at net.core.wmem_max (often
    /// 208 KiB, where this changes nothing); a refusal is ignored, as it only costs speed.
    /// </summary>
    private void EnlargeSendBuffer()
    {
        try
        {
            CheckOpen().SendBufferSize = PipeSendBuffer;
        }
        catch (SocketException)
        {
            // The default buffer works, only slower.
        }
    }

    /// <summary>
    /// True if this end may receive. A duplex end stops being readable after a message that was
    /// too long for the receive call (CPython: the rest of that message is never read).
    /// </summary>
    public bool Readable => _readable;

    /// <summary>True if this end may send.</summary>
    public bool Writable { get; }

    /// <summary>True once <see cref="Close"/> has run.</summary>
    public bool Closed => Volatile.Read(ref _socket) is null;

    /// <summary>
    /// The largest message <see cref="RecvBytes(int?)"/>, <see cref="Recv"/> and their async forms
    /// accept, so a bogus or hostile length header cannot make this process allocate gigabytes.
    /// Default 256 MiB; a longer message throws <see cref="InvalidDataException"/>
    /// (<c>bad message length</c>) before anything is allocated. Streamed receives
    /// (<see cref="RecvBytesInto(Stream, long?)"/>) allocate nothing and are bounded by their own
    /// argument instead.
    /// </summary>
    public long MaxMessageLength
    {
        get => Interlocked.Read(ref _maxMessageLength);
        set
        {
            ArgumentOutOfRangeException.ThrowIfNegative(value);
            Interlocked.Exchange(ref _maxMessageLength, value);
        }
    }

    /// <summary>Closes this end; closing twice is a no-op. A receive blocked in another thread fails with <c>handle is closed</c>.</summary>
    public void Close()
    {
        Socket? socket;
        lock (_lock)
        {
            socket = _socket;
            _socket = null;
        }
        socket?.Dispose();
    }

    /// <summary>Same as <see cref="Close"/>.</summary>
    public void Dispose() => Close();

    /// <summary>CPython's repr: <c>&lt;multiprocessing.connection.Connection object at 0x…&gt;</c>.</summary>
    public override string ToString() =>
        $"<multiprocessing.connection.Connection object at 0x{RuntimeHelpers.GetHashCode(this):x}>";

    /// <summary>The descriptor, for passing this end to a child being started.</summary>
    internal int Descriptor => (int)CheckOpen().SafeHandle.DangerousGetHandle();

    internal Socket CheckOpen() => Volatile.Read(ref _socket) ?? throw HandleClosed();

    private Socket CheckReadable()
    {
        Socket socket = CheckOpen();
        if (!_readable) throw new InvalidOperationException("connection is write-only");
        return socket;
    }

    private Socket CheckWritable()
    {
        Socket socket = CheckOpen();
        if (!Writable) throw new InvalidOperationException("connection is read-only");
        return socket;
    }

    private static InvalidOperationException HandleClosed() => new("handle is closed");

    /// <summary>
    /// CPython <c>_bad_message_length</c>: the rest of the message is still on the wire, so this end
    /// can no longer receive in step with the peer. A duplex end stays usable for sending.
    /// </summary>
    private InvalidDataException BadMessageLength(string message)
    {
        AbandonReceiving();
        return new InvalidDataException(message);
    }

    /// <summary>Stops receiving on this end because the byte stream is no longer at a message boundary.</summary>
    private void AbandonReceiving()
    {
        if (Writable) _readable = false;
        else Close();
    }

    /// <summary>
    /// A socket failure as the caller should see it: <c>handle is closed</c> when it happened because
    /// this end was closed meanwhile, an <see cref="IOException"/> otherwise.
    /// </summary>
    private Exception Translate(Exception e) => e switch
    {
        _ when Closed => HandleClosed(),
        ObjectDisposedException => HandleClosed(),
        SocketException se => new IOException(se.Message, se),
        _ => e,
    };
}
