namespace Multiprocessing;

/// <summary>
/// A received message did not fit the buffer given to <see cref="Connection.RecvBytesInto(Span{byte})"/>
/// (CPython <c>BufferTooShort</c>). The message has been consumed from the connection; it is here whole,
/// as CPython's <c>args[0]</c>.
/// </summary>
/// <example>
/// <code>
/// catch (BufferTooShortException e) { byte[] whole = e.ReceivedMessage; }
/// </code>
/// </example>
public sealed class BufferTooShortException : Exception
{
    /// <summary>Creates the exception for <paramref name="receivedMessage"/>, which did not fit a buffer of <paramref name="bufferLength"/> bytes.</summary>
    public BufferTooShortException(byte[] receivedMessage, int bufferLength)
        : base($"a message of {receivedMessage?.Length} bytes does not fit the buffer of {bufferLength} bytes")
    {
        ArgumentNullException.ThrowIfNull(receivedMessage);
        ReceivedMessage = receivedMessage;
    }

    /// <summary>The whole message that was received.</summary>
    public byte[] ReceivedMessage { get; }
}
