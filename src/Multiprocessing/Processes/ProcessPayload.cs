using Multiprocessing.Serialization;

namespace Multiprocessing;

/// <summary>
/// The bootstrap payload: everything a child needs to become the process the parent started
/// (CPython pickles the Process object plus <c>spawn.get_preparation_data</c>).
/// </summary>
internal static class ProcessPayload
{
    internal sealed record Header(
        string Name, int[] Identity, byte[] AuthKey, bool Daemon, int ParentPid, string ParentName,
        string StartMethod, bool KillOnParentDeath, string ClassName);

    private const byte DaemonFlag = 1, KillOnParentDeathFlag = 2, PlainFlag = 4;

    /// <summary>
    /// The header is a fixed raw layout, not tagged values: its fields never change type, and
    /// each tagged value cost the writer its general path (a type switch, boxing, the reference
    /// table for the identity array) on the way to the child's first line. The flags byte also
    /// says whether the process is a plain <see cref="Process"/> (a subclass travels with its fields).
    /// </summary>
    internal static void WriteHeader(ObjectWriter w, Header h, bool plain)
    {
        w.WriteStringRaw(h.Name);
        w.WriteVarUInt((ulong)h.Identity.Length);
        foreach (int part in h.Identity) w.WriteInt32Raw(part);
        w.WriteRawBytes(h.AuthKey);
        w.WriteInt32Raw(h.ParentPid);
        w.WriteStringRaw(h.ParentName);
        w.WriteStringRaw(h.StartMethod);
        w.WriteStringRaw(h.ClassName);
        w.WriteByte((byte)((h.Daemon ? DaemonFlag : 0) | (h.KillOnParentDeath ? KillOnParentDeathFlag : 0) | (plain ? PlainFlag : 0)));
    }

    /// <summary>Reads what <see cref="WriteHeader"/> wrote; both readers (this one and <see cref="PlainStart"/>) start here.</summary>
    internal static Header ReadHeader(ref ByteCursor r, out bool plain)
    {
        string name = r.ReadStringRaw();
        var identity = new int[r.ReadCount()];
        for (int i = 0; i < identity.Length; i++) identity[i] = r.ReadInt32Raw();
        byte[] authKey = r.ReadRawBytes();
        int parentPid = r.ReadInt32Raw();
        string parentName = r.ReadStringRaw(), startMethod = r.ReadStringRaw(), className = r.ReadStringRaw();
        byte flags = r.ReadByte();
        if ((flags & ~(DaemonFlag | KillOnParentDeathFlag | PlainFlag)) != 0)
            throw UnknownFlags(flags);
        plain = (flags & PlainFlag) != 0;
        return new Header(name, identity, authKey, (flags & DaemonFlag) != 0, parentPid, parentName, startMethod,
                          (flags & KillOnParentDeathFlag) != 0, className);
    }

    internal static (byte[] Data, IReadOnlyList<int> Descriptors) Encode(Process process)
    {
        (Delegate? target, object?[] args, IReadOnlyDictionary<string, object?> kwargs) = process.StartArguments;
        return Encode(process.CreateHeader(), process, target, args, kwargs);
    }

    /// <summary>
    /// A forkserver spare's rehearsal: a payload like a real start's, made without a Process
    /// object (whose constructor would move this process's child counter), encoded and decoded
    /// once before the real payload comes.
    /// </summary>
    internal static void Rehearse(Delegate target, object?[] args, IReadOnlyDictionary<string, object?> kwargs)
    {
        var h = new Header("rehearsal", [1], new byte[32], false, Environment.ProcessId, "MainProcess", "forkserver", false, "Process");
        _ = Decode(Encode(h, Process.CreateUninitialized(), target, args, kwargs).Data, DescriptorTable.None);
    }

    private static (byte[] Data, IReadOnlyList<int> Descriptors) Encode(Header h, Process process, Delegate? target, object?[] args,
                                                                         IReadOnlyDictionary<string, object?> kwargs) =>
        PlainStart.TryEncode(h, process, target, args, kwargs) is { } plainClosure ? (plainClosure, []) : EncodeGeneral(h, process, target, args, kwargs);

    /// <summary>Any start, with the serializer (<see cref="PlainStart.TryEncode"/> writes the same bytes for the common closure without it).</summary>
    internal static (byte[] Data, IReadOnlyList<int> Descriptors) EncodeGeneral(Header h, Process process, Delegate? target, object?[] args,
                                                                                IReadOnlyDictionary<string, object?> kwargs)
    {
        return ProcessSerialization.Serializer.SerializeWithDescriptors(SerializationPurpose.ProcessStart, w =>
        {
            // A Process subclass travels with its own fields, never the base's live state. A plain
            // Process has none, and naming its type cost the child ~2 ms of cold reflection.
            bool plain = process.GetType() == typeof(Process);
            WriteHeader(w, h, plain);
            if (plain)
            {
                w.RegisterRoot(process);
            }
            else
            {
                w.PushPath($"{process.GetType().Name} object");
                w.WriteFieldwise(process, process.GetType(), typeof(Process));
                w.PopPath();
            }
            w.PushPath("target");
            w.WriteValue(target);
            w.PopPath();
            w.PushPath("args");
            w.WriteValue(args);
            w.PopPath();
            w.PushPath("kwargs");
            w.WriteValue(kwargs.Count == 0 ? null : new Dictionary<string, object?>(kwargs));
            w.PopPath();
        });
    }

    internal static Process Decode(byte[] payload, DescriptorTable descriptors) =>
        PlainStart.TryDecode(payload) ?? DecodeGeneral(payload, descriptors);

    /// <summary>Any payload, with the serializer (<see cref="PlainStart"/> takes the common shape without it).</summary>
    internal static Process DecodeGeneral(byte[] payload, DescriptorTable descriptors) =>
        ProcessSerialization.Serializer.Deserialize(payload, r =>
        {
            Header h = ReadHeader(ref r.Cursor, out bool plain);
            Process process;
            if (plain)
            {
                process = Process.CreateUninitialized();
                r.RegisterRoot(process);
            }
            else
            {
                r.ExpectTag(Tag.Object);
                process = (Process)r.ReadFieldwise(null);
            }
            var target = (Delegate?)r.ReadValue();
            var args = (object?[]?)r.ReadValue() ?? [];
            var kwargs = (IReadOnlyDictionary<string, object?>?)r.ReadValue();
            process.InitializeInChild(h, target, args, kwargs);
            return process;
        }, descriptors);

    // Out of line: a ReadyToRun method loads every type it names when first entered, and this
    // type's methods are on a spawned child's start path, which never throws.
    private static InvalidDataException UnknownFlags(byte flags) => ByteCursor.Corrupt($"unknown header flags 0x{flags:x2}");
}
