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

    public ReadOnlySpan<byte> Take(int count)
    {
        if (count < 0 || count > Remaining)
            throw new InvalidDataException($"corrupt payload: {count} bytes wanted at offset {_pos}, {Remaining} left");
        var span = new ReadOnlySpan<byte>(data, _pos, count);
        _pos += count;
        return span;
    }

    public byte ReadByte() => Take(1)[0];

    // Little-endian by hand: BinaryPrimitives (the System.Memory facade) would be one more
    // assembly for every child to load before its target runs.
    public int ReadInt32Raw()
    {
        ReadOnlySpan<byte> b = Take(4);
        return b[0] | b[1] << 8 | b[2] << 16 | b[3] << 24;
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
        throw new InvalidDataException("corrupt payload: variable-length integer too long");
    }

    /// <summary>A count that must fit in what is left (each item takes at least one byte).</summary>
    public int ReadCount()
    {
        ulong n = ReadVarUInt();
        if (n > (ulong)Remaining) throw new InvalidDataException($"corrupt payload: count {n} exceeds the remaining {Remaining} bytes");
        return (int)n;
    }

    public byte[] ReadRawBytes() => Take(ReadCount()).ToArray();

    public string ReadStringRaw()
    {
        int n = ReadCount();
        ReadOnlySpan<byte> bytes = Take(n);
        return n <= 256 && AsciiString(bytes) is { } ascii ? ascii : Encoding.UTF8.GetString(bytes);
    }

    /// <summary>
    /// The common short ASCII string (names, keys) copied by hand: the first
    /// <c>Encoding.UTF8.GetString</c> in a process cost ~2.8 ms of a child's cold start here.
    /// </summary>
    private static string? AsciiString(ReadOnlySpan<byte> bytes)
    {
        Span<char> chars = stackalloc char[bytes.Length];
        for (int i = 0; i < bytes.Length; i++)
        {
            if (bytes[i] >= 0x80) return null;
            chars[i] = (char)bytes[i];
        }
        return new string(chars);
    }
}
