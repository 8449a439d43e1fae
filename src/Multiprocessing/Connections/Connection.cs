using System.Net.Sockets;
using Multiprocessing.Interop;
using Multiprocessing.Wire;

namespace Multiprocessing;

/// <summary>
/// One end of a message channel (CPython <c>multiprocessing.connection.Connection</c>):
/// length-prefixed messages in CPython's framing over a socket, so a CPython peer can read them.
/// </summary>
/// <example>
/// <code>
/// var (a, b) = Connection.Pipe();
/// a.SendBytes("hi"u8);
/// byte[] got = b.RecvBytes();
/// </code>
/// </example>
public sealed partial class Connection : IDisposable
{
    private readonly Lock _lock = new();
    private Socket? _socket;
    private NetworkStream? _stream;

    private Connection(Socket socket, bool readable, bool writable)
    {
        _socket = socket;
        _stream = new NetworkStream(socket, ownsSocket: true);
        Readable = readable;
        Writable = writable;
    }

    /// <summary>Wraps a connected stream socket; the connection owns it from now on.</summary>
    internal static Connection FromSocket(Socket socket, bool readable = true, bool writable = true) =>
        new(socket, readable, writable);

    /// <summary>
    /// Two connected connections. Duplex: both ends read and write. <c>Pipe(false)</c> returns
    /// <c>(reader, writer)</c> as CPython does.
    /// </summary>
    public static (Connection, Connection) Pipe(bool duplex = true)
    {
        (int fd0, int fd1) = Libc.CreateSocketPair();
        var s0 = new Socket(new SafeSocketHandle(fd0, ownsHandle: true));
        var s1 = new Socket(new SafeSocketHandle(fd1, ownsHandle: true));
        return duplex
            ? (new Connection(s0, true, true), new Connection(s1, true, true))
            : (new Connection(s0, true, false), new Connection(s1, false, true));
    }

    /// <summary>True if this end may receive.</summary>
    public bool Readable { get; }

    /// <summary>True if this end may send.</summary>
    public bool Writable { get; }

    /// <summary>True once <see cref="Close"/> has run.</summary>
    public bool Closed => _stream is null;

    /// <summary>Sends <paramref name="buffer"/> as one message.</summary>
    public void SendBytes(ReadOnlySpan<byte> buffer)
    {
        NetworkStream stream = CheckWritable();
        Framing.Write(stream, buffer);
    }

    /// <summary>Receives one message; <see cref="EndOfStreamException"/> once the peer has closed.</summary>
    public byte[] RecvBytes(int? maxLength = null)
    {
        NetworkStream stream = CheckReadable();
        return Framing.Read(stream, maxLength ?? Framing.DefaultMaxMessageLength) ?? throw new EndOfStreamException();
    }

    /// <summary>Closes this end; closing twice is a no-op.</summary>
    public void Close()
    {
        NetworkStream? stream;
        lock (_lock)
        {
            stream = _stream;
            _stream = null;
            _socket = null;
        }
        stream?.Dispose();
    }

    /// <summary>Same as <see cref="Close"/>.</summary>
    public void Dispose() => Close();

    private NetworkStream CheckReadable()
    {
        NetworkStream stream = _stream ?? throw new InvalidOperationException("handle is closed");
        if (!Readable) throw new InvalidOperationException("connection is write-only");
        return stream;
    }

    private NetworkStream CheckWritable()
    {
        NetworkStream stream = _stream ?? throw new InvalidOperationException("handle is closed");
        if (!Writable) throw new InvalidOperationException("connection is read-only");
        return stream;
    }
}
