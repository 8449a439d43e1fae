namespace Multiprocessing.Wire;

/// <summary>Kinds of message on the parent↔child process channel.</summary>
internal enum ChannelMessageKind : byte
{
    /// <summary>
    /// Parent → child: the parent's descriptor table size (Int32, little-endian; 0 when unknown),
    /// then the serialized start payload. Read by the parent after the fork, so the child's
    /// inherited descriptors are all below it (a table never shrinks).
    /// </summary>
    Bootstrap = 1,
    /// <summary>Child → parent: the target raised; body is the exception as data.</summary>
    Exception = 2,
    /// <summary>Child → parent: the process is exiting normally with this code (Int32, little-endian): <see cref="ChannelMessage.CreateExit"/>.</summary>
    Exit = 3,
    /// <summary>Child → parent: a forkserver spare has warmed up and waits for its payload (no body).</summary>
    Ready = 4,
    /// <summary>Parent → forkserver spare: a start has begun and its payload follows shortly (no body).</summary>
    Wake = 5,
}

/// <summary>
/// A process-channel message: <c>[version][kind][body]</c> inside one frame. The version byte
/// lets a mismatched parent and child (two different library builds) fail with a clear error
/// instead of misreading each other.
/// </summary>
internal static class ChannelMessage
{
    internal const byte ProtocolVersion = 2;

    internal static byte[] Create(ChannelMessageKind kind, ReadOnlySpan<byte> body)
    {
        byte[] message = new byte[body.Length + 2];
        message[0] = ProtocolVersion;
        message[1] = (byte)kind;
        body.CopyTo(new Span<byte>(message, 2, body.Length));
        return message;
    }

    /// <summary>A Bootstrap message: the table size, then the payload.</summary>
    internal static byte[] CreateBootstrap(int tableSize, IReadOnlyList<int> passed, ReadOnlySpan<byte> payload)
    {
        int head = 8 + 4 * passed.Count;
        byte[] body = new byte[head + payload.Length];
        WriteInt32(body, tableSize);
        WriteInt32(body.AsSpan(4), passed.Count);
        for (int i = 0; i < passed.Count; i++) WriteInt32(body.AsSpan(8 + 4 * i), passed[i]);
        payload.CopyTo(new Span<byte>(body, head, payload.Length));
        return Create(ChannelMessageKind.Bootstrap, body);
    }

    /// <summary>
    /// The payload of a Bootstrap <paramref name="message"/> (its kind already checked), with the
    /// table size and the passed descriptors' numbers in the parent that precede it. A forkserver
    /// parent passes the descriptors themselves with the frame (SCM_RIGHTS), in this order; a
    /// spawned child inherited its descriptors under their own numbers and gets none here.
    /// Over the array with offsets, not a ReadOnlyMemory: ByteCursor says why.
    /// </summary>
    internal static byte[] ReadBootstrap(byte[] message, out int tableSize, out int[] passed)
    {
        const int body = 2;
        if (message.Length - body < 8) throw Invalid("invalid bootstrap message: shorter than its table size and descriptor count");
        tableSize = ReadInt32(message, body);
        int count = ReadInt32(message, body + 4);
        if (count < 0 || count > (message.Length - body - 8) / 4)
            throw PassedCount(count);
        passed = count == 0 ? EmptyInts.Value : new int[count];
        for (int i = 0; i < count; i++) passed[i] = ReadInt32(message, body + 8 + 4 * i);
        int start = body + 8 + 4 * count;
        var payload = new byte[message.Length - start];
        Buffer.BlockCopy(message, start, payload, 0, payload.Length);
        return payload;
    }

    /// <summary>An Exit message carrying <paramref name="exitCode"/>.</summary>
    internal static byte[] CreateExit(int exitCode)
    {
        Span<byte> body = stackalloc byte[4];
        WriteInt32(body, exitCode);
        return Create(ChannelMessageKind.Exit, body);
    }

    /// <summary>The code in an Exit body; null when the body is too short to hold one.</summary>
    internal static int? ExitCode(ReadOnlySpan<byte> body) => body.Length >= 4 ? ReadInt32(body) : null;

    // Little-endian by hand, not BinaryPrimitives: that type lives behind the System.Memory
    // facade, which a spawned child's start path no longer loads.
    private static void WriteInt32(Span<byte> destination, int value)
    {
        for (int i = 0; i < 4; i++) destination[i] = (byte)(value >> (8 * i));
    }

    private static int ReadInt32(ReadOnlySpan<byte> bytes) => bytes[0] | bytes[1] << 8 | bytes[2] << 16 | bytes[3] << 24;

    private static int ReadInt32(byte[] bytes, int at) => bytes[at] | bytes[at + 1] << 8 | bytes[at + 2] << 16 | bytes[at + 3] << 24;

    internal static ChannelMessageKind Parse(byte[] message, out ReadOnlyMemory<byte> body)
    {
        ChannelMessageKind kind = Kind(message);
        body = new ReadOnlyMemory<byte>(message, 2, message.Length - 2);
        return kind;
    }

    /// <summary>The kind of <paramref name="message"/>, its header checked; the body starts at offset 2.</summary>
    internal static ChannelMessageKind Kind(byte[] message)
    {
        if (message.Length < 2)
            throw Invalid("invalid process channel message: shorter than its 2-byte header");
        if (message[0] != ProtocolVersion)
            throw VersionMismatch(message[0]);
        return (ChannelMessageKind)message[1];
    }

    // Out of line: a ReadyToRun method loads every type it names when first entered, and this
    // type's methods are on a spawned child's start path, which never throws.
    private static InvalidDataException Invalid(string message) => new(message);

    private static InvalidDataException PassedCount(int count) => new($"invalid bootstrap message: {count} passed descriptors");

    private static InvalidDataException VersionMismatch(byte version) => new(
        $"process channel protocol version {version} does not match this library's {ProtocolVersion}; " +
        "the parent and child must load the same Multiprocessing.dll");
}
