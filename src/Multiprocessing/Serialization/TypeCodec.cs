namespace Multiprocessing.Serialization;

/// <summary>
/// Serialization for a type that needs special handling to travel (an authentication key, a
/// connection, a process object). Registered by the layer that owns the type, so
/// Serialization never depends on it.
/// </summary>
internal abstract class TypeCodec
{
    /// <summary>Stable identifier written to the stream.</summary>
    public abstract string Id { get; }
    public abstract bool CanHandle(Type type);
    public abstract void Write(ObjectWriter writer, object value);
    public abstract object? Read(ObjectReader reader);
}
