using Multiprocessing.Serialization;

namespace Multiprocessing;

/// <summary>
/// The common start decoded without the serializer: a plain <see cref="Process"/> whose target is
/// an <see cref="Action"/> (a static method or a lambda that captures nothing), or none, with no
/// arguments. The payload is the same bytes <see cref="ProcessPayload.Encode(Process)"/> writes
/// for any start; this reader matches that shape byte by byte and returns null at the first
/// difference (or a truncation), leaving the payload to the general reader. Measured with an
/// EventPipe trace of a spawned no-op child: the general reader's set-up (codec table, reference
/// and type lists, the resolved-type cache, the well-known type switch, raw arrays) was ~40 type
/// loads and ~50 first calls of ReadyToRun methods before the target, this reader's a handful.
/// What it builds must equal what <see cref="ObjectReader"/> builds from the same bytes (tests
/// compare the two).
/// </summary>
internal static class PlainStart
{
    /// <summary>The process the payload describes, or null when it is not a plain start (or is corrupt: the general reader then reports it).</summary>
    internal static Process? TryDecode(byte[] payload)
    {
        ProcessPayload.Header header;
        string? assembly = null, typeName = null;
        int typeToken = 0, methodToken = 0;
        try
        {
            var r = new ByteCursor(payload);
            if (r.ReadByte() != BinarySerializer.FormatVersion) return null;
            header = ProcessPayload.ReadHeader(ref r, out bool plain);
            if (!plain) return null; // a subclass travels with its fields

            switch (r.ReadByte())
            {
                case (byte)Tag.Null:
                    break;
                case (byte)Tag.Delegate:
                    // One Action over a method of a named, non-generic type, with no target
                    // (static, or closed over null as ObjectReader does for a capture-free lambda).
                    if (r.ReadVarUInt() != WellKnownTypes.ActionCode || r.ReadVarUInt() != 1 || r.ReadVarUInt() != WellKnownTypes.Named) return null;
                    assembly = r.ReadStringRaw();
                    typeName = r.ReadStringRaw();
                    typeToken = r.ReadInt32Raw();
                    methodToken = r.ReadInt32Raw();
                    if (r.ReadVarUInt() != 0 || r.ReadByte() is not (0 or 2)) return null;
                    break;
                default:
                    return null;
            }
            // No arguments (an empty object[]) and no keyword arguments (null), then the end.
            if (r.ReadByte() != (byte)Tag.Array || r.ReadVarUInt() != WellKnownTypes.ObjectCode || r.ReadVarUInt() != 0) return null;
            if (r.ReadByte() != (byte)Tag.Null || !r.AtEnd) return null;
        }
        catch (InvalidDataException)
        {
            return null;
        }

        Action? target = null;
        if (assembly is not null)
        {
            Type declaring = TypeResolver.Resolve(assembly, typeName!, typeToken);
            if (declaring.IsGenericType) return null; // written as constructed, so not met here; ObjectReader knows the rest
            target = (Action)TypeResolver.CreateDelegate(TypeResolver.FindMethod(declaring, methodToken, []), typeof(Action), null);
        }
        Process process = Process.CreateUninitialized();
        process.InitializeInChild(header, target, [], null);
        return process;
    }
}
