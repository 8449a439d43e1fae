using System.Runtime.CompilerServices;
using MessagePack;
using MessagePack.Resolvers;

namespace Multiprocessing.Serialization;

/// <summary>
/// MessagePack-CSharp for the framework types the cold-cheap encoding does not cover
/// (HashSet, Uri, Version, BigInteger, …). Kept in its own class and never inlined, so
/// MessagePack.dll is loaded only by a process that actually sends such a value: its resolvers
/// cost 50–270 ms at first use in a fresh process (dotnet-process-notes §4e).
/// </summary>
internal static class MessagePackFallback
{
    [MethodImpl(MethodImplOptions.NoInlining)]
    internal static byte[] Serialize(object value, Type type) =>
        MessagePackSerializer.Serialize(type, value, ContractlessStandardResolverAllowPrivate.Options);

    [MethodImpl(MethodImplOptions.NoInlining)]
    internal static object? Deserialize(byte[] data, Type type) =>
        MessagePackSerializer.Deserialize(type, data, ContractlessStandardResolverAllowPrivate.Options);
}
