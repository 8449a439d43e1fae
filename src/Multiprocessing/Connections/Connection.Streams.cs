using System.Buffers;
using Multiprocessing.Interop;
using Multiprocessing.Wire;

namespace Multiprocessing;

// Streamed messages: one frame whose body is copied from or to a Stream in chunks, so a message
// of any size (beyond a byte[]'s 2 GiB) travels without being held in memory.
public sealed partial class Connection
{
    /// <summary>
    /// Sends the next <paramref name="length"/> bytes of <paramref name="source"/> as one message,
    /// reading and sending in chunks. Above 0x7fffffff bytes the header is CPython's -1 marker and
    /// 8-byte length, so a CPython peer's <c>recv_bytes()</c> reads it too.
    /// </summary>
    /// <remarks>
    /// If <paramref name="source"/> ends early or throws once the message has begun, the peer would
    /// be left inside a message that never ends: this end is closed (the peer then sees
    /// <c>got end of file during message</c>) and the error is rethrown.
    /// </remarks>
    /// <example>
    /// <code>
    /// using var file = File.OpenRead("big.bin");
    /// conn.SendBytes(file, file.Length);
    /// </code>
    /// </example>
    /// <exception cref="EndOfStreamException"><paramref name="source"/> ended before <paramref name="length"/> bytes.</exception>
    public void SendBytes(Stream source, long length)
    {
        ArgumentNullException.ThrowIfNull(source);
        CheckWritable();
        if (length < 0) throw new ArgumentOutOfRangeException(null, "size is negative");
        var socket = EnterSend();
        byte[] chunk = ArrayPool<byte>.Shared.Rent((int)Math.Min(StreamChunk, Math.Max(length, 1)));
        bool sourceFailed = false;
        try
        {
            Span<byte> header = stackalloc byte[Framing.MaxHeaderLength];
            SendAll(socket, header[..Framing.WriteHeader(header, length)]);
            for (long left = length; left > 0;)
            {
                int n;
                try
                {
                    n = source.Read(chunk, 0, (int)Math.Min(chunk.Length, left));
                    if (n == 0) throw new EndOfStreamException($"the source stream ended {left} bytes before the {length} bytes announced");
                }
                catch
                {
                    sourceFailed = true;
                    Close();
                    throw;
                }
                SendAll(socket, chunk.AsSpan(0, n));
                left -= n;
            }
        }
        catch (Exception e) when (IsSocketFailure(e) && !sourceFailed)
        {
            throw Translate(e);
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(chunk);
            _sendGate.Release();
        }
    }

    /// <summary>
    /// Receives one message into <paramref name="destination"/>, in chunks, and returns its length.
    /// Any length is accepted up to <paramref name="maxLength"/> (null: no limit; nothing is
    /// allocated per message, so <see cref="MaxMessageLength"/> does not apply).
    /// </summary>
    /// <remarks>
    /// If <paramref name="destination"/> throws, the rest of the message stays unread, so this end
    /// stops receiving as after <c>bad message length</c>, and the error is rethrown.
    /// </remarks>
    /// <example>
    /// <code>
    /// using var file = File.Create("big.bin");
    /// long n = conn.RecvBytesInto(file);
    /// </code>
    /// </example>
    /// <exception cref="EndOfStreamException">The peer has closed and every message has been read.</exception>
    /// <exception cref="InvalidDataException"><c>bad message length</c> (above <paramref name="maxLength"/>) or <c>got end of file during message</c>.</exception>
    public long RecvBytesInto(Stream destination, long? maxLength = null)
    {
        ArgumentNullException.ThrowIfNull(destination);
        CheckReadable();
        if (maxLength < 0) throw new ArgumentOutOfRangeException(null, "negative maxlength");
        var socket = EnterReceive();
        byte[]? chunk = null;
        bool destinationFailed = false;
        try
        {
            long length = ReceiveHeader(socket) ?? throw NoMoreMessages();
            if (length < 0) throw BadMessageLength($"bad message length: the header announces {length} bytes");
            if (length > maxLength) throw BadMessageLength("bad message length");
            chunk = ArrayPool<byte>.Shared.Rent((int)Math.Min(StreamChunk, Math.Max(length, 1)));
            for (long left = length; left > 0;)
            {
                // After the header the body is on its way: try before waiting (Libc.ReceiveSome).
                int n = Libc.ReceiveSome(socket.SafeHandle, chunk.AsSpan(0, (int)Math.Min(chunk.Length, left)), waitFirst: false);
                if (n == 0) throw EndOfFileDuringMessage();
                try
                {
                    destination.Write(chunk, 0, n);
                }
                catch
                {
                    destinationFailed = true;
                    AbandonReceiving();
                    throw;
                }
                left -= n;
            }
            return length;
        }
        catch (Exception e) when (IsSocketFailure(e) && !destinationFailed)
        {
            throw Translate(e);
        }
        finally
        {
            if (chunk is not null) ArrayPool<byte>.Shared.Return(chunk);
            _recvGate.Release();
        }
    }
}
