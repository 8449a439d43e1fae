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
        _ = Decode(Encode(h, Process.CreateUninitialized(), target, args, kwargs).Data, []);
    }

    private static (byte[] Data, IReadOnlyList<int> Descriptors) Encode(Header h, Process process, Delegate? target, object?[] args,
                                                                         IReadOnlyDictionary<string, object?> kwargs)
    {
        return ProcessSerialization.Serializer.SerializeWithDescriptors(SerializationPurpose.ProcessStart, w =>
        {
            w.WriteStringRaw(h.Name);
            w.WriteValue(h.Identity);
            w.WriteRawBytes(h.AuthKey);
            w.WriteValue(h.Daemon);
            w.WriteValue(h.ParentPid);
            w.WriteStringRaw(h.ParentName);
            w.WriteStringRaw(h.StartMethod);
            w.WriteValue(h.KillOnParentDeath);
            w.WriteStringRaw(h.ClassName);
            // A Process subclass travels with its own fields, never the base's live state. A plain
            // Process has none, and naming its type cost the child ~2 ms of cold reflection.
            bool plain = process.GetType() == typeof(Process);
            w.WriteValue(plain);
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

    internal static Process Decode(byte[] payload, IReadOnlyCollection<int> inheritedDescriptors) =>
        PlainStart.TryDecode(payload) ?? DecodeGeneral(payload, inheritedDescriptors);

    /// <summary>Any payload, with the serializer (<see cref="PlainStart"/> takes the common shape without it).</summary>
    internal static Process DecodeGeneral(byte[] payload, IReadOnlyCollection<int> inheritedDescriptors) =>
        ProcessSerialization.Serializer.Deserialize(payload, r =>
        {
            var h = new Header(
                r.ReadStringRaw(), (int[])r.ReadValue()!, r.ReadRawBytes(), (bool)r.ReadValue()!, (int)r.ReadValue()!,
                r.ReadStringRaw(), r.ReadStringRaw(), (bool)r.ReadValue()!, r.ReadStringRaw());
            Process process;
            if ((bool)r.ReadValue()!)
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
        }, inheritedDescriptors);
}
