using System.Runtime.CompilerServices;
using System.Runtime.Serialization;
using Multiprocessing.Serialization;

namespace Multiprocessing.Connections;

/// <summary>
/// A <see cref="Connection"/> travels only into a child being started (CPython's spawning
/// <c>DupFd</c>): its descriptor is inherited by that child alone and rebuilt there. Anywhere else
/// it is refused, with the text CPython's <c>assert_spawning</c> uses for handles that can only be
/// inherited.
/// </summary>
internal sealed class ConnectionCodec : TypeCodec
{
    private const byte ReadableFlag = 1;
    private const byte WritableFlag = 2;

    /// <summary>One connection per descriptor per payload: an end referenced twice arrives as one object, as with pickle's memo.</summary>
    private static readonly ConditionalWeakTable<ObjectReader, Dictionary<int, Connection>> s_adopted = [];

    public override string Id => "connection";

    public override bool CanHandle(Type type) => type == typeof(Connection);

    public override void Write(ObjectWriter writer, object value)
    {
        if (writer.Purpose != SerializationPurpose.ProcessStart)
            throw new SerializationException("Connection objects should only be shared between processes through inheritance");
        var connection = (Connection)value;
        writer.WriteInheritedDescriptor(connection.Descriptor, typeof(Connection));
        writer.WriteByte((byte)((connection.Readable ? ReadableFlag : 0) | (connection.Writable ? WritableFlag : 0)));
    }

    public override object? Read(ObjectReader reader)
    {
        int fd = reader.ReadInheritedDescriptor();
        byte flags = reader.ReadByte();
        if (flags is 0 or > (ReadableFlag | WritableFlag))
            throw new InvalidDataException($"corrupt payload: connection flags {flags}");
        Dictionary<int, Connection> adopted = s_adopted.GetOrCreateValue(reader);
        if (!adopted.TryGetValue(fd, out Connection? connection))
        {
            connection = Connection.FromDescriptor(fd, (flags & ReadableFlag) != 0, (flags & WritableFlag) != 0);
            adopted[fd] = connection;
        }
        return connection;
    }
}
