namespace Multiprocessing.Serialization;

/// <summary>
/// The library's <see cref="ISerializer"/>: the cold-cheap tagged encoding of
/// <see cref="ObjectWriter"/>, with registered <see cref="TypeCodec"/>s for types that need
/// special handling and MessagePack as the lazily loaded fallback.
/// </summary>
internal sealed class BinarySerializer : ISerializer
{
    /// <summary>
    /// 2: well-known type codes and raw primitive arrays; 3: types built from parts, never an
    /// assembly-qualified name; 4: the start payload's header is a fixed raw layout; 5: a field
    /// written by name also carries its metadata token (<see cref="TypeResolver.FindInstanceField"/>).
    /// </summary>
    internal const byte FormatVersion = 5;
    private readonly TypeCodec[] _codecs;

    /// <summary>
    /// A fixed set, given once: a list filled under a lock (a predicate, a monitor, a copy per
    /// call) cost a spawned child two dozen type loads and method fix-ups before its target.
    /// </summary>
    public BinarySerializer(params TypeCodec[] codecs) => _codecs = codecs;

    public byte[] Serialize(object? value, SerializationPurpose purpose = SerializationPurpose.Message) =>
        Serialize(purpose, w => w.WriteValue(value));

    /// <summary>
    /// Runs <paramref name="write"/> until closure analysis is complete: when a lambda met late
    /// in the graph uses a field of a closure object already written, the whole value is written
    /// again with the fuller analysis (analysis only grows, so this ends).
    /// </summary>
    public byte[] Serialize(SerializationPurpose purpose, Action<ObjectWriter> write) => SerializeWithDescriptors(purpose, write).Data;

    /// <summary>Like <see cref="Serialize(SerializationPurpose, Action{ObjectWriter})"/>, also returning the descriptors the payload passes.</summary>
    public (byte[] Data, IReadOnlyList<int> Descriptors) SerializeWithDescriptors(SerializationPurpose purpose, Action<ObjectWriter> write)
    {
        ClosureAnalyzer? analyzer = null;
        for (int attempt = 0; ; attempt++)
        {
            var writer = new ObjectWriter(_codecs, purpose, analyzer);
            writer.WriteByte(FormatVersion);
            write(writer);
            if (!writer.NeedsRetry || attempt >= 8) return (writer.ToArray(), writer.InheritedDescriptors);
            analyzer = writer.AnalyzerIfCreated;
        }
    }

    public object? Deserialize(ReadOnlySpan<byte> data) => Deserialize(data.ToArray(), r => r.ReadValue());

    /// <summary>Like <see cref="Deserialize(ReadOnlySpan{byte})"/> without copying a message already in an array.</summary>
    public object? Deserialize(byte[] data) => Deserialize(data, r => r.ReadValue());

    public T Deserialize<T>(byte[] data, Func<ObjectReader, T> read, DescriptorTable? descriptors = null)
    {
        if (data.Length == 0 || data[0] != FormatVersion)
            throw new InvalidDataException($"payload format version {(data.Length == 0 ? "(empty)" : data[0].ToString())} is not {FormatVersion}");
        var reader = new ObjectReader(data, _codecs) { Descriptors = descriptors };
        reader.ReadByte();
        T result;
        try
        {
            result = read(reader);
        }
        catch (Exception e) when (e is InvalidCastException or ArgumentException or
                                       NotSupportedException or OverflowException or MemberAccessException or
                                       System.Reflection.TargetInvocationException)
        {
            // Reflection refusing what a corrupt payload asked for (a field of the wrong type, a
            // type that cannot be made): the payload's fault, reported as one.
            throw new InvalidDataException("corrupt payload: " + e.Message, e);
        }
        if (!reader.AtEnd) throw new InvalidDataException("corrupt payload: trailing bytes after the value");
        return result;
    }
}
