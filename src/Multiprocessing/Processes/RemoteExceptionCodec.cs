using System.Reflection;
using Multiprocessing.Serialization;

namespace Multiprocessing;

/// <summary>An exception as data on the process channel: type name, message, stack trace, inner exceptions.</summary>
internal static class RemoteExceptionCodec
{
    internal static byte[] Encode(Exception e) =>
        ProcessSerialization.Serializer.Serialize(SerializationPurpose.Message, w => Write(w, e, 0));

    internal static RemoteException Decode(byte[] data) =>
        ProcessSerialization.Serializer.Deserialize(data, Read);

    private static void Write(ObjectWriter w, Exception e, int depth)
    {
        w.WriteStringRaw(e.GetType().FullName ?? e.GetType().Name);
        w.WriteStringRaw(e.Message);
        w.WriteStringRaw(e.StackTrace ?? "");
        IReadOnlyList<Exception> inner = depth > 16 ? [] :
            e is AggregateException ae ? ae.InnerExceptions :
            e is ReflectionTypeLoadException rtle ? [.. rtle.LoaderExceptions.OfType<Exception>()] :
            e.InnerException is { } ie ? [ie] : [];
        w.WriteVarUInt((ulong)inner.Count);
        foreach (Exception i in inner) Write(w, i, depth + 1);
    }

    private static RemoteException Read(ObjectReader r)
    {
        string type = r.ReadStringRaw();
        string message = r.ReadStringRaw();
        string stack = r.ReadStringRaw();
        int count = r.ReadCount();
        var inner = new List<RemoteException>(count);
        for (int i = 0; i < count; i++) inner.Add(Read(r));
        return new RemoteException(type, message, stack.Length == 0 ? null : stack, inner);
    }
}
