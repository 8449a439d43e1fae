namespace Multiprocessing.Wire;

/// <summary>
/// CPython's <c>multiprocessing.connection</c> framing: a 4-byte big-endian signed length, or
/// for messages over 0x7fffffff bytes the marker -1 followed by an 8-byte big-endian length
/// (<c>Connection._send_bytes</c> / <c>_recv_bytes</c>). Every channel in the library uses it,
/// so a truncated or bogus frame is detected in one place: a clean end of stream between
/// frames is "no more frames"; anything else malformed is an <see cref="InvalidDataException"/>.
/// </summary>
internal static class Framing
{
    /// <summary>Default cap on one received message: a bogus header must not allocate gigabytes.</summary>
    internal const long DefaultMaxMessageLength = 256L * 1024 * 1024;

    /// <summary>The largest header: the -1 marker and an 8-byte length.</summary>
    internal const int MaxHeaderLength = 12;

    /// <summary>
    /// The length in a 4-byte header, or null when it is the -1 marker and the 8-byte length
    /// follows. Other negative values are returned as they are, for the caller to reject.
    /// </summary>
    internal static long? ShortLength(ReadOnlySpan<byte> header) => ShortLength(BigEndian(header[..4]));

    /// <summary>The 8-byte length after the -1 marker; -1 (invalid) when it does not fit a long.</summary>
    internal static long LongLength(ReadOnlySpan<byte> header) => LongLength(BigEndian(header[..8]));

    private static long? ShortLength(ulong field) => (int)field == -1 ? null : (int)field;

    private static long LongLength(ulong field) => field > long.MaxValue ? -1 : (long)field;

    /// <summary>Writes the header for a message of <paramref name="length"/> bytes; returns its size (4 or 12).</summary>
    internal static int WriteHeader(Span<byte> destination, long length)
    {
        if (length <= int.MaxValue)
        {
            BigEndian(destination[..4], (ulong)length);
            return 4;
        }
        BigEndian(destination[..4], uint.MaxValue); // the -1 marker
        BigEndian(destination[4..12], (ulong)length);
        return 12;
    }

    // By hand, not BinaryPrimitives: that type lives behind the System.Memory facade, whose load
    // every spawned child would pay for (its framing is the only user on the start path).
    private static ulong BigEndian(ReadOnlySpan<byte> bytes)
    {
        ulong value = 0;
        foreach (byte b in bytes) value = value << 8 | b;
        return value;
    }

    private static void BigEndian(Span<byte> destination, ulong value)
    {
        for (int i = destination.Length - 1; i >= 0; i--, value >>= 8) destination[i] = (byte)value;
    }

    /// <summary>A message and its 4-byte header in one array, ready for a single write.</summary>
    internal static byte[] Frame(ReadOnlySpan<byte> message)
    {
        byte[] buffer = new byte[message.Length + 4];
        WriteHeader(buffer, message.Length);
        message.CopyTo(new Span<byte>(buffer, 4, message.Length));
        return buffer;
    }

    internal static void Write(Stream stream, ReadOnlySpan<byte> message) => Write(new OverStream(stream), message);

    internal static void Write(DescriptorChannel channel, ReadOnlySpan<byte> message) => Write(new OverChannel(channel), message);

    private static void Write<T>(T to, ReadOnlySpan<byte> message) where T : struct, IBytes
    {
        // One write for small messages: fewer syscalls, and a reader never sees a lone header.
        if (message.Length <= 64 * 1024)
        {
            to.Write(Frame(message));
        }
        else
        {
            Span<byte> header = stackalloc byte[12];
            to.Write(header[..WriteHeader(header, message.Length)]);
            to.Write(message);
        }
        to.Flush();
    }

    /// <summary>
    /// What framing needs of a channel. Two ends implement it, over a <see cref="Stream"/> and
    /// over a child host's <see cref="DescriptorChannel"/> (no Stream: it says why); generic over
    /// these structs, each overload compiles to direct calls.
    /// </summary>
    private interface IBytes
    {
        int Read(byte[] buffer, int offset, int count);
        void Write(ReadOnlySpan<byte> bytes);
        void Flush();
    }

    private readonly struct OverStream(Stream stream) : IBytes
    {
        public int Read(byte[] buffer, int offset, int count) => stream.Read(buffer, offset, count);
        public void Write(ReadOnlySpan<byte> bytes) => stream.Write(bytes);
        public void Flush() => stream.Flush();
    }

    private readonly struct OverChannel(DescriptorChannel channel) : IBytes
    {
        public int Read(byte[] buffer, int offset, int count) => channel.Read(buffer, offset, count);
        public void Write(ReadOnlySpan<byte> bytes) => channel.Write(bytes);
        public void Flush() { }
    }

    /// <summary>Reads one frame; null when the stream ended cleanly before a new frame began.</summary>
    /// <remarks>
    /// Over arrays, with the stream's array overload: this is how a child host reads its payload,
    /// and a child's start path takes no span (ByteCursor says why).
    /// </remarks>
    internal static byte[]? Read(Stream stream, long maxLength = DefaultMaxMessageLength) => Read(new OverStream(stream), maxLength);

    /// <summary>Reads one frame from a child host's channel; null at a clean end of stream.</summary>
    internal static byte[]? Read(DescriptorChannel channel, long maxLength = DefaultMaxMessageLength) => Read(new OverChannel(channel), maxLength);

    private static byte[]? Read<T>(T from, long maxLength) where T : struct, IBytes
    {
        byte[] header = new byte[8];
        int got = ReadAtMost(from, header, 4);
        if (got == 0) return null;
        if (got < 4) throw Truncated("header");
        long length = ShortLength(BigEndian(header, 4)) ??
            (ReadAtMost(from, header, 8) < 8 ? throw Truncated("header") : LongLength(BigEndian(header, 8)));
        byte[] message = new byte[CheckLength(length, maxLength)];
        if (ReadAtMost(from, message, message.Length) < message.Length) throw Truncated("body");
        return message;
    }

    /// <summary>Async twin of <see cref="Read(Stream, long)"/>.</summary>
    internal static async ValueTask<byte[]?> ReadAsync(Stream stream, long maxLength, CancellationToken cancellationToken)
    {
        byte[] header = new byte[8];
        int got = await ReadAtMostAsync(stream, header.AsMemory(0, 4), cancellationToken).ConfigureAwait(false);
        if (got == 0) return null;
        if (got < 4) throw Truncated("header");
        long length = ShortLength(header) ??
            (await ReadAtMostAsync(stream, header, cancellationToken).ConfigureAwait(false) < 8 ? throw Truncated("header") : LongLength(header));
        byte[] message = new byte[CheckLength(length, maxLength)];
        if (await ReadAtMostAsync(stream, message, cancellationToken).ConfigureAwait(false) < message.Length) throw Truncated("body");
        return message;
    }

    private static int CheckLength(long length, long maxLength)
    {
        if (length < 0 || length > maxLength || length > Array.MaxLength) throw InvalidLength(length, maxLength);
        return (int)length;
    }

    // Out of line: a ReadyToRun method loads every type it names when first entered.
    private static InvalidDataException InvalidLength(long length, long maxLength) => length < 0
        ? new($"invalid frame: negative message length {length}")
        : new($"invalid frame: message of {length} bytes exceeds the maximum of {Math.Min(maxLength, Array.MaxLength)} bytes");

    private static int ReadAtMost<T>(T from, byte[] buffer, int count) where T : struct, IBytes
    {
        int total = 0;
        while (total < count)
        {
            int n = from.Read(buffer, total, count - total);
            if (n == 0) break;
            total += n;
        }
        return total;
    }

    /// <summary>The first <paramref name="count"/> bytes of <paramref name="bytes"/> as a big-endian number.</summary>
    private static ulong BigEndian(byte[] bytes, int count)
    {
        ulong value = 0;
        for (int i = 0; i < count; i++) value = value << 8 | bytes[i];
        return value;
    }

    private static async ValueTask<int> ReadAtMostAsync(Stream stream, Memory<byte> buffer, CancellationToken cancellationToken)
    {
        int total = 0;
        while (total < buffer.Length)
        {
            int n = await stream.ReadAsync(buffer[total..], cancellationToken).ConfigureAwait(false);
            if (n == 0) break;
            total += n;
        }
        return total;
    }

    private static InvalidDataException Truncated(string part) =>
        new($"truncated frame: the stream ended inside a message {part}");
}
