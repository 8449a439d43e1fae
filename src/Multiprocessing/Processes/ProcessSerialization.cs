using System.Runtime.Serialization;
using Multiprocessing.Serialization;

namespace Multiprocessing;

/// <summary>The serializer every process-level value goes through, with the codecs this layer owns.</summary>
internal static class ProcessSerialization
{
    internal static readonly BinarySerializer Serializer = new(new AuthenticationKeyCodec(), new ProcessCodec(), new Connections.ConnectionCodec());

    /// <summary>CPython <c>AuthenticationString.__reduce__</c>: only as part of a process start.</summary>
    private sealed class AuthenticationKeyCodec : TypeCodec
    {
        public override string Id => "authkey";
        public override bool CanHandle(Type type) => type == typeof(AuthenticationKey);

        public override void Write(ObjectWriter writer, object value)
        {
            if (writer.Purpose != SerializationPurpose.ProcessStart)
                throw new SerializationException("Pickling an AuthenticationString object is disallowed for security reasons");
            writer.WriteRawBytes(((AuthenticationKey)value).Span);
        }

        public override object? Read(ObjectReader reader) => AuthenticationKey.Adopt(reader.ReadRawBytes());
    }

    /// <summary>A Process object is live state of this process: it never travels as a value (CPython E27).</summary>
    private sealed class ProcessCodec : TypeCodec
    {
        public override string Id => "process";
        public override bool CanHandle(Type type) => typeof(Process).IsAssignableFrom(type) || type == typeof(ParentProcess) || type == typeof(Sentinel);

        public override void Write(ObjectWriter writer, object value) =>
            throw writer.Refuse(value.GetType(), "a process object controls a child of this process and cannot be used from another one");

        public override object? Read(ObjectReader reader) => throw new InvalidDataException("corrupt payload: a process object was sent");
    }
}
