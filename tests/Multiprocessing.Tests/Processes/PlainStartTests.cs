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
        Process general = ProcessPayload.DecodeGeneral(payload, []);
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

    public static TheoryData<string> OtherShapes => ["captured lambda", "arguments", "keyword arguments", "Func<Task> target", "multicast", "subclass"];

    [Theory]
    [MemberData(nameof(OtherShapes))]
    public void Other_starts_are_left_to_the_general_reader(string shape)
    {
        int local = 3;
        using Process p = shape switch
        {
            "captured lambda" => Spawn.Process(() => { local++; }),
            "arguments" => Spawn.Process(new Action<int>(WithArgument), [2]),
            "keyword arguments" => Spawn.Process(new Action<int>(WithArgument), kwargs: new Dictionary<string, object?> { ["n"] = 2 }),
            "Func<Task> target" => Spawn.Process(() => Task.CompletedTask),
            "multicast" => Spawn.Process((Action)StaticTarget + StaticTarget),
            "subclass" => new Sub(),
            _ => throw new ArgumentOutOfRangeException(nameof(shape)),
        };
        byte[] payload = Payload(p);
        Assert.Null(PlainStart.TryDecode(payload));
        Assert.NotNull(ProcessPayload.Decode(payload, [])); // and the general reader takes it
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
            Assert.Throws<InvalidDataException>(() => ProcessPayload.Decode(cut, []));
        }
        byte[] versioned = (byte[])payload.Clone();
        versioned[0] ^= 0x40;
        Assert.Null(PlainStart.TryDecode(versioned));
        Assert.Throws<InvalidDataException>(() => ProcessPayload.Decode(versioned, []));
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
        var e = Assert.Throws<InvalidDataException>(() => ProcessPayload.Decode(payload, []));
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
