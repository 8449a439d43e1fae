using Multiprocessing.Serialization;

namespace Multiprocessing;

// Object messages: CPython send(obj) / recv(), through the library's serializer.
public sealed partial class Connection
{
    /// <summary>
    /// Serializes <paramref name="obj"/> and sends it as one message (CPython <c>send(obj)</c>).
    /// A value that cannot travel fails here, before anything is written, naming the type and
    /// member. A <see cref="Connection"/> inside it cannot travel this way: pass it to the child
    /// when starting it instead.
    /// </summary>
    /// <exception cref="System.Runtime.Serialization.SerializationException">The value cannot be sent.</exception>
    public void Send(object? obj)
    {
        CheckWritable();
        SendBytes(ProcessSerialization.Serializer.Serialize(obj, SerializationPurpose.Message));
    }

    /// <summary>Receives one message sent with <see cref="Send"/> (CPython <c>recv()</c>).</summary>
    /// <exception cref="EndOfStreamException">The peer has closed and every message has been read.</exception>
    public object? Recv() => Deserialize(RecvBytes());

    /// <summary>Receives one message sent with <see cref="Send"/> as a <typeparamref name="T"/>.</summary>
    /// <exception cref="InvalidCastException">The message holds something else; it has been consumed.</exception>
    /// <example><code>int n = conn.Recv&lt;int&gt;();</code></example>
    public T Recv<T>() => As<T>(Recv());

    private static object? Deserialize(byte[] message) => ProcessSerialization.Serializer.Deserialize(message);

    private static T As<T>(object? value) => value switch
    {
        T t => t,
        null when default(T) is null => default!,
        _ => throw new InvalidCastException(
            $"the message holds {(value is null ? "null" : "a " + value.GetType().FullName)}, not a {typeof(T).FullName}"),
    };
}
