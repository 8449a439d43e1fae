namespace Multiprocessing.Serialization;

/// <summary>Why a value is being serialized: some types may only travel as part of a process start.</summary>
internal enum SerializationPurpose
{
    /// <summary>A message on a connection or queue.</summary>
    Message,
    /// <summary>The payload that starts a child process (CPython's "spawning popen is active").</summary>
    ProcessStart,
}

/// <summary>
/// The one seam every cross-process value goes through, so the wire format is one place to
/// change. Serialize fails in the sender, naming the type and the member path, for anything
/// that cannot be rebuilt on the other side.
/// </summary>
internal interface ISerializer
{
    byte[] Serialize(object? value, SerializationPurpose purpose = SerializationPurpose.Message);
    object? Deserialize(ReadOnlySpan<byte> data);
}
