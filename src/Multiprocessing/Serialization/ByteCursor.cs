using System.Text;

namespace Multiprocessing.Serialization;

/// <summary>
/// The payload's primitive encodings, read forward from an array: what <see cref="ObjectReader"/>
/// builds values from, and all a plain start's bootstrap needs (<see cref="PlainStart"/>). Every
/// length is checked against what is left, so a corrupt or truncated payload is an
/// <see cref="InvalidDataException"/>, never a huge allocation or a crash.
/// </summary>
internal struct ByteCursor(byte[] data)
{
    private int _pos;

    public readonly bool AtEnd => _pos == data.Length;

    /// <summary>Offset of the next byte (for error messages).</summary>
    public readonly int Position => _pos;

    public readonly int Remaining => data.Length - _pos;

    public ReadOnlySpan<byte> Take(int count) => new(data, Advance(count), count);

    /// <summary>Moves past <paramref name="count"/> bytes (checked against what is left) and returns where they start.</summary>
    private int Advance(int count)
    {
        if (count < 0 || count > Remaining)
            throw Truncated(count, _pos, Remaining);
        int at = _pos;
        _pos += count;
        return at;
    }

    // The primitives index the array rather than take a span: a plain start's bootstrap reads
    // nothing else, and Span's members that ReadyToRun code cannot inline across assemblies
    // (its constructors, Slice, ToArray) sit in two 64 KiB stretches of CoreLib's image that
    // nothing else on a child's start path reaches (EmptyInts says what such a stretch costs).
    public byte ReadByte() => data[Advance(1)];

    // Little-endian by hand: BinaryPrimitives (the System.Memory facade) would be one more
    // assembly for every child to load before its target runs.
    public int ReadInt32Raw()
    {
        int at = Advance(4);
        return data[at] | data[at + 1] << 8 | data[at + 2] << 16 | data[at + 3] << 24;
    }

    public long ReadInt64Raw() => (uint)ReadInt32Raw() | (long)ReadInt32Raw() << 32;

    public ulong ReadVarUInt()
    {
        ulong result = 0;
        for (int shift = 0; shift < 64; shift += 7)
        {
            byte b = ReadByte();
            result |= (ulong)(b & 0x7F) << shift;
            if ((b & 0x80) == 0) return result;
        }
        throw Corrupt("variable-length integer too long");
    }

    /// <summary>A count that must fit in what is left (each item takes at least one byte).</summary>
    public int ReadCount()
    {
        ulong n = ReadVarUInt();
        if (n > (ulong)Remaining) throw CountTooLarge(n, Remaining);
        return (int)n;
    }

    public byte[] ReadRawBytes()
    {
        int n = ReadCount();
        var bytes = new byte[n];
        Buffer.BlockCopy(data, Advance(n), bytes, 0, n);
        return bytes;
    }

    public string ReadStringRaw()
    {
        int n = ReadCount();
        int at = Advance(n);
        return n <= 256 && AsciiString(data, at, n) is { } ascii ? ascii : Encoding.UTF8.GetString(data, at, n);
    }

    /// <summary>
    /// The common short ASCII string (names, keys) copied by hand: the first
    /// <c>Encoding.UTF8.GetString</c> in a process cost ~2.8 ms of a child's cold start here.
    /// </summary>
    private static unsafe string? AsciiString(byte[] bytes, int start, int length)
    {
        char* chars = stackalloc char[length];
        for (int i = 0; i < length; i++)
        {
            byte b = bytes[start + i];
            if (b >= 0x80) return null;
            chars[i] = (char)b;
        }
        return new string(chars, 0, length);
    }

    // Out of line: a ReadyToRun method loads every type it names when first entered, and this
    // type's methods are on a spawned child's start path, which never throws.
    private static InvalidDataException Truncated(int count, int position, int remaining) =>
        Corrupt($"{count} bytes wanted at offset {position}, {remaining} left");

    private static InvalidDataException CountTooLarge(ulong count, int remaining) =>
        Corrupt($"count {count} exceeds the remaining {remaining} bytes");

    /// <summary>"corrupt payload: " and what is wrong, for the payload's readers.</summary>
    internal static InvalidDataException Corrupt(string what, Exception? inner = null) => new("corrupt payload: " + what, inner);
}
