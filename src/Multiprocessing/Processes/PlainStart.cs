using System.Runtime.CompilerServices;
using Multiprocessing.Serialization;

namespace Multiprocessing;

/// <summary>
/// The common start decoded without the serializer: a plain <see cref="Process"/> whose target is
/// an <see cref="Action"/> (a static method, a lambda that captures nothing, or one whose captures
/// are strings and simple numbers: <see cref="TryEncode"/>), or none, with no arguments. The
/// payload is the same bytes the general writer writes for any start; this reader matches that
/// shape byte by byte and returns null at the first difference (or a truncation), leaving the
/// payload to the general reader. Measured with an EventPipe trace of a spawned no-op child: the
/// general reader's set-up (codec table, reference and type lists, the resolved-type cache, the
/// well-known type switch, raw arrays) was ~40 type loads and ~50 first calls of ReadyToRun
/// methods before the target, this reader's a handful. What it builds must equal what
/// <see cref="ObjectReader"/> builds from the same bytes (tests compare the two).
/// </summary>
internal static partial class PlainStart
{
    /// <summary>The process the payload describes, or null when it is not a plain start (or is corrupt: the general reader then reports it).</summary>
    internal static Process? TryDecode(byte[] payload)
    {
        ProcessPayload.Header header;
        string? assembly = null, typeName = null;
        int typeToken = 0, methodToken = 0;
        string[]? captured = null; // the closure's field names, with their tokens and values
        int[] tokens = [];
        object?[] values = [];
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
                    // (static, or closed over null as ObjectReader does for a capture-free lambda),
                    // or with an object of that type whose fields are strings and simple numbers.
                    if (r.ReadVarUInt() != WellKnownTypes.ActionCode || r.ReadVarUInt() != 1 || r.ReadVarUInt() != WellKnownTypes.Named) return null;
                    assembly = r.ReadStringRaw();
                    typeName = r.ReadStringRaw();
                    typeToken = r.ReadInt32Raw();
                    methodToken = r.ReadInt32Raw();
                    if (r.ReadVarUInt() != 0) return null;
                    switch (r.ReadByte())
                    {
                        case 0 or 2:
                            break;
                        case 1:
                            if (r.ReadByte() != (byte)Tag.Object || r.ReadVarUInt() != WellKnownTypes.FirstSessionCode) return null;
                            captured = new string[r.ReadCount()];
                            tokens = new int[captured.Length];
                            values = new object?[captured.Length];
                            for (int i = 0; i < captured.Length; i++)
                            {
                                captured[i] = r.ReadStringRaw();
                                tokens[i] = r.ReadInt32Raw();
                                if (!TryReadSimple(ref r, out values[i])) return null;
                            }
                            break;
                        default:
                            return null;
                    }
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
            object? closure = null;
            if (captured is not null)
            {
                // As ObjectReader.ReadFieldwise does, without the reader's field cache (a
                // Dictionary, whose facade a child would load for it). A base
                // class's field ("Base::name" matches no field here), one this build lacks or a
                // value of another type is left to the general reader, which reports what is wrong.
                // No string search on the name: in a cold process on this AVX-512 machine the
                // first vectorized search compiled at run time (string.Contains: 2.3 ms).
                try
                {
                    closure = RuntimeHelpers.GetUninitializedObject(declaring);
                    for (int i = 0; i < captured.Length; i++)
                    {
                        if (TypeResolver.FindInstanceField(declaring, captured[i], tokens[i]) is not { } field) return null;
                        field.SetValue(closure, values[i]);
                    }
                }
                catch (Exception e) when (e is ArgumentException or MemberAccessException or NotSupportedException)
                {
                    return null;
                }
            }
            target = (Action)TypeResolver.CreateDelegate(TypeResolver.FindMethod(declaring, methodToken, []), typeof(Action), closure);
        }
        Process process = Process.CreateUninitialized();
        process.InitializeInChild(header, target, [], null);
        return process;
    }

    /// <summary>The values <see cref="TryEncode"/> lets through, read as <see cref="ObjectReader"/> reads them; false for any other tag.</summary>
    private static bool TryReadSimple(ref ByteCursor r, out object? value)
    {
        switch ((Tag)r.ReadByte())
        {
            case Tag.Null: value = null; return true;
            case Tag.True: value = true; return true;
            case Tag.False: value = false; return true;
            case Tag.Int32: value = r.ReadInt32Raw(); return true;
            case Tag.Int64: value = r.ReadInt64Raw(); return true;
            case Tag.Double: value = BitConverter.Int64BitsToDouble(r.ReadInt64Raw()); return true;
            case Tag.String: value = r.ReadStringRaw(); return true;
            default: value = null; return false;
        }
    }
}
