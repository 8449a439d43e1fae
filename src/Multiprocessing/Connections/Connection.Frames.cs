using System.Buffers;
using System.Net.Sockets;
using Multiprocessing.Interop;
using Multiprocessing.Wire;

namespace Multiprocessing;

// Frames on the socket, blocking: CPython's _send_bytes / _recv_bytes, and the gates every public
// send or receive takes (EnterSend / EnterReceive) so concurrent callers never interleave frames.
public sealed partial class Connection
{
    /// <summary>Up to this size header and body go out in one write, so a reader never sees a lone header.</summary>
    private const int SingleWriteLimit = 64 * 1024;

    /// <summary>Chunk size for streamed messages.</summary>
    private const int StreamChunk = 1024 * 1024;

    private void SendFrame(Socket socket, ReadOnlySpan<byte> body)
    {
        Span<byte> header = stackalloc byte[Framing.MaxHeaderLength];
        int headerLength = Framing.WriteHeader(header, body.Length);
        if (body.Length <= SingleWriteLimit)
        {
            byte[] buffer = ArrayPool<byte>.Shared.Rent(headerLength + body.Length);
            try
            {
                header[..headerLength].CopyTo(buffer);
                body.CopyTo(buffer.AsSpan(headerLength));
                SendAll(socket, buffer.AsSpan(0, headerLength + body.Length));
            }
            finally
            {
                ArrayPool<byte>.Shared.Return(buffer);
            }
        }
        else
        {
            SendAll(socket, header[..headerLength]);
            SendAll(socket, body);
        }
    }

    /// <summary>Writes all of <paramref name="data"/>, waiting in the kernel while the socket is full (see <see cref="Libc.SendSome"/>).</summary>
    private static void SendAll(Socket socket, ReadOnlySpan<byte> data)
    {
        while (!data.IsEmpty)
            data = data[Libc.SendSome(socket.SafeHandle, data)..];
    }

    /// <summary>The next frame's length; null when the peer closed cleanly between frames.</summary>
    private static long? ReceiveHeader(Socket socket)
    {
        Span<byte> header = stackalloc byte[8];
        int got = ReceiveAtMost(socket, header[..4]);
        if (got == 0) return null;
        if (got < 4) throw EndOfFileDuringMessage();
        return Framing.ShortLength(header) ?? (ReceiveBody(socket, header) < 8 ? throw EndOfFileDuringMessage() : Framing.LongLength(header));
    }

    /// <summary>Reads one whole message into a new array, checked against both limits before allocating.</summary>
    private byte[] ReceiveFrame(Socket socket, int? maxLength)
    {
        long length = ReceiveHeader(socket) ?? throw NoMoreMessages();
        byte[] body = NewBody(CheckLength(length, maxLength));
        if (ReceiveBody(socket, body) < body.Length) throw EndOfFileDuringMessage();
        return body;
    }

    /// <summary>Receives of at least this size get their array's pages in one call (see <see cref="NewBody"/>).</summary>
    private const int PopulateThreshold = 1024 * 1024;

    /// <summary>
    /// The array a message of <paramref name="length"/> bytes is received into. A large one is not
    /// zeroed (the receive writes every byte, or the array is dropped) and has its pages faulted in
    /// at once (<see cref="Libc.PopulateForWrite"/>): 16 MiB round-trips went from ~150 to
    /// ~300-470 MiB/s while the GC was handing out fresh memory.
    /// </summary>
    private static byte[] NewBody(int length)
    {
        if (length < PopulateThreshold) return new byte[length];
        byte[] body = GC.AllocateUninitializedArray<byte>(length);
        Libc.PopulateForWrite(body);
        return body;
    }

    /// <summary>
    /// Like <see cref="ReceiveAtMost"/> for bytes that follow a header just read: the sender wrote
    /// them in the same write up to <see cref="SingleWriteLimit"/>, so they are almost always
    /// there already and the first receive goes without waiting first (a third of a small
    /// message's system calls). When they are not, it waits after all.
    /// </summary>
    private static int ReceiveBody(Socket socket, Span<byte> buffer) => ReceiveAtMost(socket, buffer, waitFirst: false);

    /// <summary>
    /// Fills <paramref name="buffer"/> unless the stream ends first; the count received. The
    /// first receive waits in poll(2) first (see <see cref="Libc.ReceiveSome"/>), the rest of a
    /// message is tried first: it is on its way.
    /// </summary>
    private static int ReceiveAtMost(Socket socket, Span<byte> buffer, bool waitFirst = true)
    {
        int total = 0;
        while (total < buffer.Length)
        {
            int n = Libc.ReceiveSome(socket.SafeHandle, buffer[total..], waitFirst && total == 0);
            if (n == 0) break;
            total += n;
        }
        return total;
    }

    /// <summary>
    /// The length as an array size, or CPython's <c>bad message length</c>: above the caller's
    /// <paramref name="maxLength"/>, above <see cref="MaxMessageLength"/>, or negative.
    /// </summary>
    private int CheckLength(long length, long? maxLength)
    {
        if (length < 0) throw BadMessageLength($"bad message length: the header announces {length} bytes");
        if (length > maxLength) throw BadMessageLength("bad message length");
        long cap = Math.Min(MaxMessageLength, Array.MaxLength);
        if (length > cap)
            throw BadMessageLength($"bad message length: {length} bytes is more than the {cap}-byte limit (MaxMessageLength)");
        return (int)length;
    }

    private static InvalidDataException EndOfFileDuringMessage() => new("got end of file during message");

    /// <summary>
    /// A clean end of stream: the peer closed (CPython's EOFError), unless this end was closed
    /// under a blocked receive, which can also read as an end of stream.
    /// </summary>
    private Exception NoMoreMessages() => Closed ? HandleClosed() : new EndOfStreamException();

    /// <summary>Takes the receive gate (blocking) and returns the socket; release with <c>_recvGate.Release()</c>.</summary>
    private Socket EnterReceive()
    {
        CheckReadable();
        _recvGate.Wait();
        try
        {
            return CheckReadable(); // another receiver may have closed it or made it unreadable meanwhile
        }
        catch
        {
            _recvGate.Release();
            throw;
        }
    }

    /// <summary>Takes the send gate (blocking) and returns the socket; release with <c>_sendGate.Release()</c>.</summary>
    private Socket EnterSend()
    {
        CheckWritable();
        _sendGate.Wait();
        try
        {
            return CheckWritable();
        }
        catch
        {
            _sendGate.Release();
            throw;
        }
    }

    private static bool IsSocketFailure(Exception e) => e is SocketException or ObjectDisposedException;
}
