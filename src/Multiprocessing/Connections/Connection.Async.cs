using System.Net.Sockets;
using Multiprocessing.Serialization;
using Multiprocessing.Wire;

namespace Multiprocessing;

// The async forms. They take the same gates as the blocking ones, so blocking and async calls
// may be mixed across threads without interleaving frames.
public sealed partial class Connection
{
    /// <summary>Async <see cref="Send"/>.</summary>
    /// <remarks>
    /// Cancellation while waiting for another sender leaves the connection as it was. Once this
    /// message has begun to go out, a cancellation closes this end, because the peer would
    /// otherwise wait forever inside a half-sent message.
    /// </remarks>
    public ValueTask SendAsync(object? obj, CancellationToken cancellationToken = default)
    {
        CheckWritable();
        return SendBytesAsync(ProcessSerialization.Serializer.Serialize(obj, SerializationPurpose.Message), cancellationToken);
    }

    /// <summary>Async <see cref="SendBytes(ReadOnlySpan{byte})"/>; cancellation as for <see cref="SendAsync"/>.</summary>
    public async ValueTask SendBytesAsync(ReadOnlyMemory<byte> buffer, CancellationToken cancellationToken = default)
    {
        CheckWritable();
        await _sendGate.WaitAsync(cancellationToken).ConfigureAwait(false);
        bool started = false;
        try
        {
            Socket socket = CheckWritable();
            byte[] header = new byte[Framing.MaxHeaderLength];
            int headerLength = Framing.WriteHeader(header, buffer.Length);
            cancellationToken.ThrowIfCancellationRequested();
            started = true;
            if (buffer.Length <= SingleWriteLimit)
            {
                byte[] frame = new byte[headerLength + buffer.Length];
                header.AsSpan(0, headerLength).CopyTo(frame);
                buffer.Span.CopyTo(frame.AsSpan(headerLength));
                await SendAllAsync(socket, frame, cancellationToken).ConfigureAwait(false);
            }
            else
            {
                await SendAllAsync(socket, header.AsMemory(0, headerLength), cancellationToken).ConfigureAwait(false);
                await SendAllAsync(socket, buffer, cancellationToken).ConfigureAwait(false);
            }
        }
        catch (OperationCanceledException) when (started)
        {
            Close();
            throw;
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

    /// <summary>Async <see cref="Recv{T}"/>.</summary>
    /// <remarks>
    /// Cancellation before any byte of a message has arrived leaves the connection as it was. A
    /// cancellation inside a message leaves its rest unread, so this end stops receiving, as after
    /// <c>bad message length</c>.
    /// </remarks>
    /// <example><code>string s = await conn.RecvAsync&lt;string&gt;(cts.Token);</code></example>
    public async ValueTask<T> RecvAsync<T>(CancellationToken cancellationToken = default) =>
        As<T>(Deserialize(await RecvBytesAsync(null, cancellationToken).ConfigureAwait(false)));

    /// <summary>Async <see cref="Recv()"/>; cancellation as for <see cref="RecvAsync{T}"/>.</summary>
    public async ValueTask<object?> RecvAsync(CancellationToken cancellationToken = default) =>
        Deserialize(await RecvBytesAsync(null, cancellationToken).ConfigureAwait(false));

    /// <summary>Async <see cref="RecvBytes(int?)"/>; cancellation as for <see cref="RecvAsync{T}"/>.</summary>
    public async ValueTask<byte[]> RecvBytesAsync(int? maxLength = null, CancellationToken cancellationToken = default)
    {
        CheckReadable();
        if (maxLength < 0) throw new ArgumentOutOfRangeException(null, "negative maxlength");
        await _recvGate.WaitAsync(cancellationToken).ConfigureAwait(false);
        long consumed = 0;
        try
        {
            Socket socket = CheckReadable();
            byte[] header = new byte[8];
            int got = await ReceiveAtMost(header.AsMemory(0, 4)).ConfigureAwait(false);
            if (got == 0) throw NoMoreMessages();
            if (got < 4) throw EndOfFileDuringMessage();
            long length = Framing.ShortLength(header) ??
                (await ReceiveAtMost(header).ConfigureAwait(false) < 8 ? throw EndOfFileDuringMessage() : Framing.LongLength(header));
            byte[] body = NewBody(CheckLength(length, maxLength));
            if (await ReceiveAtMost(body).ConfigureAwait(false) < body.Length) throw EndOfFileDuringMessage();
            return body;

            async ValueTask<int> ReceiveAtMost(Memory<byte> buffer)
            {
                int total = 0;
                while (total < buffer.Length)
                {
                    int n = await socket.ReceiveAsync(buffer[total..], SocketFlags.None, cancellationToken).ConfigureAwait(false);
                    if (n == 0) break;
                    total += n;
                    consumed += n;
                }
                return total;
            }
        }
        catch (OperationCanceledException) when (consumed > 0)
        {
            AbandonReceiving();
            throw;
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

    private static async ValueTask SendAllAsync(Socket socket, ReadOnlyMemory<byte> data, CancellationToken cancellationToken)
    {
        while (!data.IsEmpty)
        {
            int n = await socket.SendAsync(data, SocketFlags.None, cancellationToken).ConfigureAwait(false);
            if (n <= 0) throw new IOException("the socket accepted no data");
            data = data[n..];
        }
    }
}
