using Multiprocessing.Serialization;
using Xunit;

namespace Multiprocessing.Tests.Processes;

/// <summary>
/// The plain start's bootstrap reader (PlainStart) against the general one: for the shapes it
/// takes it must build the same process, and it must leave every other payload (and every
/// corrupt one) to the general reader by returning null, never by throwing.
/// </summary>
public class PlainStartTests
{
    private static readonly ProcessContext Spawn = Context.Get("spawn");
    private static int s_calls;

    private static void StaticTarget() => s_calls++;
    private static void WithArgument(int n) => s_calls += n;

    private static byte[] Payload(Process p) => ProcessPayload.Encode(p).Data;

    public static TheoryData<string> PlainShapes => ["static method", "capture-free lambda", "no target", "named daemon, non-ASCII name", "killed with its parent"];

    private static Process MakePlain(string shape) => shape switch
    {
        "static method" => Spawn.Process(StaticTarget),
        "capture-free lambda" => Spawn.Process(() => { s_calls++; }),
        "no target" => Spawn.Process(target: (Delegate?)null),
        "named daemon, non-ASCII name" => Spawn.Process(StaticTarget, name: "wörker-Ω", daemon: true),
        "killed with its parent" => WithKillOnParentDeath(Spawn.Process(StaticTarget)),
        _ => throw new ArgumentOutOfRangeException(nameof(shape)),
    };

    private static Process WithKillOnParentDeath(Process p)
    {
        p.KillOnParentDeath = true;
        return p;
    }

    [Theory]
    [MemberData(nameof(PlainShapes))]
    public void A_plain_start_decodes_to_the_same_process_as_with_the_serializer(string shape)
    {
        using Process original = MakePlain(shape);
        byte[] payload = Payload(original);
        Process? fast = PlainStart.TryDecode(payload);
        Assert.NotNull(fast);
        Process general = ProcessPayload.DecodeGeneral(payload, DescriptorTable.None);
        // Everything the payload carries, written again: the same bytes from both readers.
        Assert.Equal(Payload(general), Payload(fast));
        Assert.Equal(general.ParentPidForChild, fast.ParentPidForChild);
        Assert.Equal(general.ParentNameForChild, fast.ParentNameForChild);
        Assert.Equal(original.Name, fast.Name);
        Assert.Equal(original.Daemon, fast.Daemon);
        Assert.Equal(original.KillOnParentDeath, fast.KillOnParentDeath);
        Assert.Equal(original.AuthKey, fast.AuthKey);
        (Delegate? target, object?[] args, IReadOnlyDictionary<string, object?> kwargs) = fast.StartArguments;
        Assert.Equal(general.StartArguments.Target?.Method, target?.Method);
        Assert.Null(target?.Target); // static, or closed over null like ObjectReader does for a capture-free lambda
        Assert.Empty(args);
        Assert.Empty(kwargs);
        if (target is not null)
        {
            int before = s_calls;
            fast.Run();
            Assert.Equal(before + 1, s_calls);
        }
    }

    [Fact]
    public void A_static_target_round_trips_to_the_original_bytes()
    {
        using Process original = Spawn.Process(StaticTarget, name: "same");
        byte[] payload = Payload(original);
        Assert.Equal(payload, Payload(PlainStart.TryDecode(payload)!));
    }

    private sealed class Sub : Process
    {
        public override void Run() { }
    }

    /// <summary>The general writer's bytes for a start, bypassing the plain closure template.</summary>
    private static byte[] GeneralPayload(Process p)
    {
        (Delegate? target, object?[] args, IReadOnlyDictionary<string, object?> kwargs) = p.StartArguments;
        return ProcessPayload.EncodeGeneral(p.CreateHeader(), p, target, args, kwargs).Data;
    }

    private static void Capture(string? text, int count, long big, bool flag, double ratio) =>
        s_seen = $"{text}|{count}|{big}|{flag}|{ratio.ToString(System.Globalization.CultureInfo.InvariantCulture)}";

    private static string? s_seen;

    public static TheoryData<string> SimpleClosures => ["every simple kind", "a null string", "an inner scope's captures", "unused captures stay behind", "a <>c instance that is not the singleton"];

    private static Process MakeSimpleClosure(string shape)
    {
        string text = "wörld";
        int count = -7;
        long big = long.MaxValue;
        bool flag = true;
        double ratio = 0.25;
        string? none = null;
        object unused = new List<int>(); // not a simple value: the template would refuse it, were it sent
        switch (shape)
        {
            case "every simple kind": return Spawn.Process(() => Capture(text, count, big, flag, ratio));
            case "a null string": return Spawn.Process(() => Capture(none, count, 0, false, 0));
            case "an inner scope's captures":
                {
                    int inner = 5;
                    return Spawn.Process(() => Capture("x", inner, 1, false, 1));
                }
            case "a <>c instance that is not the singleton": // as a spare's rehearsal makes (SpareWarmUp.RehearseInstanceTarget)
                {
                    Action free = () => Capture("c", 0, 0, false, 0);
                    object instance = System.Runtime.CompilerServices.RuntimeHelpers.GetUninitializedObject(free.Target!.GetType());
                    return Spawn.Process((Action)free.Method.CreateDelegate(typeof(Action), instance));
                }
            case "unused captures stay behind":
                GC.KeepAlive(new Action(() => GC.KeepAlive(unused)));
                return Spawn.Process(() => Capture(text, 1, 2, true, 3));
            default: throw new ArgumentOutOfRangeException(nameof(shape));
        }
    }

    [Theory]
    [MemberData(nameof(SimpleClosures))]
    public void A_lambda_over_simple_captures_is_written_as_the_general_writer_writes_it_and_read_by_both_readers_alike(string shape)
    {
        using Process original = MakeSimpleClosure(shape);
        byte[] payload = Payload(original);
        (Delegate? target, object?[] args, IReadOnlyDictionary<string, object?> kwargs) = original.StartArguments;
        Assert.NotNull(PlainStart.TryEncode(original.CreateHeader(), original, target, args, kwargs)); // the template took it
        Assert.Equal(GeneralPayload(original), payload);

        Process? fast = PlainStart.TryDecode(payload);
        Assert.NotNull(fast);
        Process general = ProcessPayload.DecodeGeneral(payload, DescriptorTable.None);
        Assert.Equal(GeneralPayload(general), GeneralPayload(fast));
        s_seen = null;
        fast.Run();
        string? fromFast = s_seen;
        s_seen = null;
        general.Run();
        Assert.Equal(s_seen, fromFast);
        Assert.NotNull(fromFast);
        if (shape == "every simple kind") Assert.Equal("wörld|-7|9223372036854775807|True|0.25", fromFast);
    }

    public static TheoryData<string> OtherShapes => ["captured object", "captured array", "captures of two scopes", "a derived object's method", "arguments", "keyword arguments", "Func<Task> target", "multicast", "subclass"];

    [Theory]
    [MemberData(nameof(OtherShapes))]
    public void Other_starts_are_left_to_the_general_reader(string shape)
    {
        var list = new List<int> { 3 };
        int[] numbers = [1, 2];
        using Process p = shape switch
        {
            "captured object" => Spawn.Process(() => GC.KeepAlive(list)),
            "captured array" => Spawn.Process(() => GC.KeepAlive(numbers)),
            "captures of two scopes" => TwoScopes(),
            "a derived object's method" => Spawn.Process(new Action(new Derived { Own = 1, Inherited = 2 }.Touch)), // "Base::Inherited" on the wire
            "arguments" => Spawn.Process(new Action<int>(WithArgument), [2]),
            "keyword arguments" => Spawn.Process(new Action<int>(WithArgument), kwargs: new Dictionary<string, object?> { ["n"] = 2 }),
            "Func<Task> target" => Spawn.Process(() => Task.CompletedTask),
            "multicast" => Spawn.Process((Action)StaticTarget + StaticTarget),
            "subclass" => new Sub(),
            _ => throw new ArgumentOutOfRangeException(nameof(shape)),
        };
        byte[] payload = Payload(p);
        Assert.Null(PlainStart.TryDecode(payload));
        Assert.NotNull(ProcessPayload.Decode(payload, DescriptorTable.None)); // and the general reader takes it
    }

    private class Base
    {
        public int Inherited;
    }

    private sealed class Derived : Base
    {
        public int Own;
        public void Touch() => s_calls += Own + Inherited;
    }

    /// <summary>A lambda reading an inner and an outer scope: its closure links to the outer one (a field that is an object).</summary>
    private static Process TwoScopes()
    {
        string outer = "o";
        Process p = null!;
        for (int i = 0; i < 1; i++)
        {
            int inner = i; // a scope entered once per iteration: a closure of its own, linked to the method's
            p = Spawn.Process(() => GC.KeepAlive(outer + inner));
        }
        return p;
    }

    [Fact]
    public void Every_truncation_and_a_wrong_version_are_left_to_the_general_reader_which_reports_them()
    {
        using Process original = Spawn.Process(StaticTarget);
        byte[] payload = Payload(original);
        for (int length = 0; length < payload.Length; length++)
        {
            byte[] cut = payload[..length];
            Assert.Null(PlainStart.TryDecode(cut));
            Assert.Throws<InvalidDataException>(() => ProcessPayload.Decode(cut, DescriptorTable.None));
        }
        byte[] versioned = (byte[])payload.Clone();
        versioned[0] ^= 0x40;
        Assert.Null(PlainStart.TryDecode(versioned));
        Assert.Throws<InvalidDataException>(() => ProcessPayload.Decode(versioned, DescriptorTable.None));
    }

    [Fact]
    public void Unknown_header_flags_are_a_corrupt_payload_for_both_readers()
    {
        using Process original = Spawn.Process(StaticTarget);
        byte[] payload = Payload(original);
        var r = new Multiprocessing.Serialization.ByteCursor(payload);
        r.ReadByte(); // the format version
        ProcessPayload.ReadHeader(ref r, out bool plain);
        Assert.True(plain);
        payload[r.Position - 1] |= 0x80; // the flags byte ends the header
        Assert.Null(PlainStart.TryDecode(payload));
        var e = Assert.Throws<InvalidDataException>(() => ProcessPayload.Decode(payload, DescriptorTable.None));
        Assert.Contains("unknown header flags 0x84", e.Message);
    }

    [Fact]
    public void The_codes_the_reader_matches_are_the_well_known_types_it_expects()
    {
        Assert.Equal(typeof(object), Multiprocessing.Serialization.WellKnownTypes.FromCode(Multiprocessing.Serialization.WellKnownTypes.ObjectCode, out _));
        Assert.Equal(typeof(int), Multiprocessing.Serialization.WellKnownTypes.FromCode(Multiprocessing.Serialization.WellKnownTypes.Int32Code, out _));
        Assert.Equal(typeof(Action), Multiprocessing.Serialization.WellKnownTypes.FromCode(Multiprocessing.Serialization.WellKnownTypes.ActionCode, out _));
    }
}
