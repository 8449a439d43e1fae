namespace Multiprocessing;

// Byte messages: CPython send_bytes / recv_bytes / recv_bytes_into.
public sealed partial class Connection
{
    /// <summary>Sends <paramref name="buffer"/> as one message (CPython <c>send_bytes(buf)</c>).</summary>
    /// <exception cref="InvalidOperationException"><c>handle is closed</c> or <c>connection is read-only</c>.</exception>
    /// <exception cref="IOException">The peer is gone (broken pipe) or another socket failure.</exception>
    public void SendBytes(ReadOnlySpan<byte> buffer)
    {
        var socket = EnterSend();
        try
        {
            SendFrame(socket, buffer);
        }
        catch (Exception e) when (IsSocketFailure(e))
        {
            throw Translate(e);
        }
        finally
        {
            _sendGate.Release();
        }
    }

    /// <summary>
    /// Sends <paramref name="size"/> bytes of <paramref name="buffer"/> from
    /// <paramref name="offset"/> as one message; a null size means "to the end" (CPython
    /// <c>send_bytes(buf, offset, size)</c>).
    /// </summary>
    /// <example><code>conn.SendBytes(data, offset: 4, size: 10); // data[4..14]</code></example>
    /// <exception cref="ArgumentOutOfRangeException">
    /// CPython's texts: <c>offset is negative</c>, <c>buffer length &lt; offset</c>,
    /// <c>size is negative</c>, <c>buffer length &lt; offset + size</c>.
    /// </exception>
    public void SendBytes(byte[] buffer, int offset, int? size = null)
    {
        ArgumentNullException.ThrowIfNull(buffer);
        CheckWritable();
        // No paramName: the message stays CPython's exact text.
        if (offset < 0) throw new ArgumentOutOfRangeException(null, "offset is negative");
        if (buffer.Length < offset) throw new ArgumentOutOfRangeException(null, "buffer length < offset");
        int count = size ?? buffer.Length - offset;
        if (count < 0) throw new ArgumentOutOfRangeException(null, "size is negative");
        if ((long)offset + count > buffer.Length) throw new ArgumentOutOfRangeException(null, "buffer length < offset + size");
        SendBytes(buffer.AsSpan(offset, count));
    }

    /// <summary>
    /// Receives one message (CPython <c>recv_bytes(maxlength)</c>). A message longer than
    /// <paramref name="maxLength"/> or <see cref="MaxMessageLength"/> throws
    /// <see cref="InvalidDataException"/> (<c>bad message length</c>) and, as in CPython, leaves a
    /// duplex end unable to receive (a one-way end is closed): the rest of that message is never read.
    /// </summary>
    /// <exception cref="EndOfStreamException">The peer has closed and every message has been read.</exception>
    /// <exception cref="ArgumentOutOfRangeException"><c>negative maxlength</c>.</exception>
    /// <exception cref="InvalidDataException"><c>bad message length</c>, or <c>got end of file during message</c> when the peer closed mid-message.</exception>
    public byte[] RecvBytes(int? maxLength = null)
    {
        CheckReadable();
        if (maxLength < 0) throw new ArgumentOutOfRangeException(null, "negative maxlength");
        var socket = EnterReceive();
        try
        {
            return ReceiveFrame(socket, maxLength);
        }
        catch (Exception e) when (IsSocketFailure(e))
        {
            throw Translate(e);
        }
        finally
        {
            _recvGate.Release();
        }
    }

    /// <summary>
    /// Receives one message into <paramref name="buffer"/> and returns its length (CPython
    /// <c>recv_bytes_into(buf)</c>). A message that does not fit is still consumed and thrown as
    /// <see cref="BufferTooShortException"/>, which carries it whole.
    /// </summary>
    /// <example>
    /// <code>
    /// byte[] buf = new byte[1024];
    /// try { int n = conn.RecvBytesInto(buf); Use(buf.AsSpan(0, n)); }
    /// catch (BufferTooShortException e) { Use(e.ReceivedMessage); }
    /// </code>
    /// </example>
    public int RecvBytesInto(Span<byte> buffer)
    {
        var socket = EnterReceive();
        int length;
        byte[]? tooLong = null;
        try
        {
            length = CheckLength(ReceiveHeader(socket) ?? throw NoMoreMessages(), null);
            Span<byte> target = length <= buffer.Length ? buffer[..length] : (tooLong = new byte[length]);
            if (ReceiveBody(socket, target) < length) throw EndOfFileDuringMessage();
        }
        catch (Exception e) when (IsSocketFailure(e))
        {
            throw Translate(e);
        }
        finally
        {
            _recvGate.Release();
        }
        if (tooLong is not null) throw new BufferTooShortException(tooLong, buffer.Length);
        return length;
    }

    /// <summary>
    /// Receives one message into <paramref name="buffer"/> from <paramref name="offset"/> and returns
    /// its length (CPython <c>recv_bytes_into(buf, offset)</c>).
    /// </summary>
    /// <exception cref="ArgumentOutOfRangeException">CPython's texts: <c>negative offset</c>, <c>offset too large</c>.</exception>
    public int RecvBytesInto(byte[] buffer, int offset)
    {
        ArgumentNullException.ThrowIfNull(buffer);
        CheckReadable();
        if (offset < 0) throw new ArgumentOutOfRangeException(null, "negative offset");
        if (offset > buffer.Length) throw new ArgumentOutOfRangeException(null, "offset too large");
        return RecvBytesInto(buffer.AsSpan(offset));
    }
}
