using System.Text;
using Multiprocessing.Serialization;
using Xunit;

namespace Multiprocessing.Tests.Serialization;

/// <summary>
/// The encodings that keep small messages small and cheap: built-in types named by a code rather
/// than an assembly-qualified name, and numeric arrays copied as memory.
/// </summary>
public class CompactEncodingTests
{
    private static readonly BinarySerializer S = ProcessSerialization.Serializer;

    private static T RoundTrip<T>(T value) => Assert.IsType<T>(S.Deserialize(S.Serialize(value)));

    [Fact]
    public void A_message_of_built_in_values_names_no_assembly()
    {
        object message = new object?[]
        {
            1, "hello", 2.5, new[] { 1, 2, 3 }, new Dictionary<string, object?> { ["k"] = true },
            new List<object?> { 1L }, new List<int>(), new HashSet<string> { "x" }, (1, "a"), Tuple.Create(1, 2.0),
            new KeyValuePair<string, int>("k", 1), new Dictionary<string, List<double[]>>(), new string[] { "s" },
        };
        byte[] data = S.Serialize(message);
        string text = Encoding.UTF8.GetString(data);
        Assert.DoesNotContain("CoreLib", text);
        Assert.DoesNotContain("System.", text);
        Assert.True(data.Length < 200, $"{data.Length} bytes");
        var back = Assert.IsType<object?[]>(S.Deserialize(data));
        Assert.Equal(((object?[])message).Select(v => v?.GetType()), back.Select(v => v?.GetType()));
        Assert.Equal((1, "a"), back[8]);
        Assert.Equal(Tuple.Create(1, 2.0), back[9]);
        Assert.Equal(new KeyValuePair<string, int>("k", 1), back[10]);
    }

    [Fact]
    public void Other_types_are_named_once_per_payload()
    {
        var nodes = new[] { new Node { Name = "a" }, new Node { Name = "b" }, new Node { Name = "c" } };
        byte[] data = S.Serialize(nodes);
        string text = Encoding.UTF8.GetString(data);
        string name = typeof(Node).AssemblyQualifiedName!;
        Assert.Equal(text.IndexOf(name, StringComparison.Ordinal), text.LastIndexOf(name, StringComparison.Ordinal));
        Assert.Equal(["a", "b", "c"], Assert.IsType<Node[]>(S.Deserialize(data)).Select(n => n.Name));
    }

    [Fact]
    public void Numeric_arrays_round_trip_exactly()
    {
        Assert.Equal([int.MinValue, -1, 0, 7, int.MaxValue], RoundTrip(new[] { int.MinValue, -1, 0, 7, int.MaxValue }));
        Assert.Equal([long.MinValue, 5L], RoundTrip(new[] { long.MinValue, 5L }));
        Assert.Equal([ulong.MaxValue], RoundTrip(new[] { ulong.MaxValue }));
        Assert.Equal([uint.MaxValue, 3u], RoundTrip(new[] { uint.MaxValue, 3u }));
        Assert.Equal([(short)-2, short.MaxValue], RoundTrip(new short[] { -2, short.MaxValue }));
        Assert.Equal([(ushort)65535], RoundTrip(new ushort[] { 65535 }));
        Assert.Equal([(sbyte)-128, (sbyte)127], RoundTrip(new sbyte[] { -128, 127 }));
        Assert.Equal(['λ', 'a', '\0'], RoundTrip(new[] { 'λ', 'a', '\0' }));
        Assert.Equal([float.NaN, -0f, 1.5f], RoundTrip(new[] { float.NaN, -0f, 1.5f }));
        Assert.Equal(BitConverter.DoubleToInt64Bits(-0.0), BitConverter.DoubleToInt64Bits(RoundTrip(new[] { -0.0 })[0]));
        Assert.Empty(RoundTrip(Array.Empty<double>()));
        Assert.Equal([true, false], RoundTrip(new[] { true, false }));
        Assert.Equal([1.1m], RoundTrip(new[] { 1.1m }));

        int[] big = Enumerable.Range(0, 100_000).ToArray();
        byte[] data = S.Serialize(big);
        Assert.InRange(data.Length, 400_000, 400_020); // the memory and a few bytes of header, not a tag per element
        Assert.Equal(big, Assert.IsType<int[]>(S.Deserialize(data)));
    }

    [Fact]
    public void Arrays_keep_shared_references_and_cycles()
    {
        int[] shared = [1, 2];
        var outer = new object?[] { shared, shared, null };
        outer[2] = outer;
        var back = Assert.IsType<object?[]>(S.Deserialize(S.Serialize(outer)));
        Assert.Same(back[0], back[1]);
        Assert.Same(back, back[2]);
        Assert.Equal([1, 2], Assert.IsType<int[]>(back[0]));
    }

    [Fact]
    public void A_numeric_array_longer_than_its_payload_is_corrupt()
    {
        byte[] data = S.Serialize(new[] { 1, 2, 3, 4 });
        var e = Assert.Throws<InvalidDataException>(() => S.Deserialize(data[..^1]));
        Assert.Contains("corrupt payload", e.Message);
    }

    [Fact]
    public void A_collection_tag_naming_another_type_is_corrupt()
    {
        // A List tag whose type is not a List<>: the reader refuses it rather than casting.
        byte[] list = S.Serialize(new List<int> { 1 });
        byte[] dict = S.Serialize(new Dictionary<int, int>());
        byte[] swapped = [.. list[..2], .. dict[2..]];
        var e = Assert.Throws<InvalidDataException>(() => S.Deserialize(swapped));
        Assert.Contains("is not a List", e.Message);
    }

    public sealed class Box<T>
    {
        public T? Value;
    }

    [Fact]
    public void Application_generics_arrays_and_type_values_round_trip_without_assembly_qualified_names()
    {
        var box = new Box<Node[]> { Value = [new Node { Name = "n" }] };
        byte[] data = S.Serialize(box);
        Assert.DoesNotContain("Version=", Encoding.UTF8.GetString(data));
        var back = Assert.IsType<Box<Node[]>>(S.Deserialize(data));
        Assert.Equal("n", back.Value![0].Name);

        Type[] types = [typeof(List<>), typeof(Box<>), typeof(Box<int>), typeof(int[,]), typeof(Node[][]), typeof(Dictionary<string, Box<Node>>)];
        Assert.Equal(types, Assert.IsType<Type[]>(S.Deserialize(S.Serialize(types))));
    }

    [Fact]
    public void A_type_from_an_assembly_the_reader_cannot_load_is_a_clear_error()
    {
        byte[] data = S.Serialize(new Node { Name = "n" });
        string text = Encoding.Latin1.GetString(data);
        string assembly = typeof(Node).Assembly.GetName().Name!;
        // Same length, so the payload stays well formed: only the assembly name is wrong.
        string other = new string('Z', assembly.Length);
        byte[] altered = Encoding.Latin1.GetBytes(text.Replace(assembly, other));
        var e = Assert.Throws<InvalidDataException>(() => S.Deserialize(altered));
        Assert.Contains($"assembly '{other}' cannot be loaded", e.Message);
    }

    [Fact]
    public void A_type_whose_name_no_longer_matches_its_token_is_a_clear_error()
    {
        // The token still points at Node, but the name says another build's type: the name wins.
        byte[] data = S.Serialize(new Node { Name = "n" });
        string text = Encoding.Latin1.GetString(data);
        string name = typeof(Node).FullName!;
        string other = name[..^4] + "Edge";
        var e = Assert.Throws<InvalidDataException>(() => S.Deserialize(Encoding.Latin1.GetBytes(text.Replace(name, other))));
        Assert.Contains($"type '{other}' is not in assembly", e.Message);
    }

    [Fact]
    public void Deeply_nested_payloads_fail_cleanly_in_the_reader_and_the_writer()
    {
        // object[] { object[] { ... } } 200 000 deep, built by hand: version, then per level the
        // Array tag, the object element type and a count of 1.
        byte objectCode = S.Serialize(new object?[0])[2];
        var wire = new List<byte> { BinarySerializer.FormatVersion };
        for (int i = 0; i < 200_000; i++) wire.AddRange([(byte)Tag.Array, objectCode, 1]);
        wire.Add((byte)Tag.Null);
        var e = Assert.Throws<InvalidDataException>(() => S.Deserialize(wire.ToArray()));
        Assert.Contains("nested too deeply", e.Message);

        // A type nested 100 deep: List<List<...>> written as generic codes.
        byte[] list = S.Serialize(new List<int>());
        var types = new List<byte> { BinarySerializer.FormatVersion, (byte)Tag.Type };
        for (int i = 0; i < 100; i++) types.Add(list[2]); // List<>'s code, each taking the next as its argument
        types.Add(list[3]);
        e = Assert.Throws<InvalidDataException>(() => S.Deserialize(types.ToArray()));
        Assert.Contains("nested more than", e.Message);

        object?[] chain = [];
        for (int i = 0; i < 200_000; i++) chain = [chain];
        var refused = Assert.Throws<System.Runtime.Serialization.SerializationException>(() => S.Serialize(chain));
        Assert.Contains("maximum recursion depth exceeded while pickling an object", refused.Message);
    }

    [Theory]
    [InlineData("")]
    [InlineData("MainProcess")]
    [InlineData("naïve Grüße ✓ 𝄞")]   // UTF-8 beyond ASCII takes the general decoder
    [InlineData("tab\tand\u007f")]        // the top of ASCII stays on the short path
    public void Strings_round_trip_on_both_decoding_paths(string text)
    {
        Assert.Equal(text, RoundTrip(text));
        string longer = string.Concat(Enumerable.Repeat(text + "x", 300)); // past the 256-byte short path
        Assert.Equal(longer, RoundTrip(longer));
    }

    [Fact]
    public void Every_well_known_code_names_one_type_and_the_writer_finds_it_again()
    {
        var seen = new HashSet<Type>();
        for (int code = WellKnownTypes.ArrayOf + 1; code < WellKnownTypes.FirstSessionCode; code++)
        {
            Type type = WellKnownTypes.FromCode(code, out bool isGeneric);
            Assert.True(seen.Add(type), $"code {code}: {type} twice");
            Assert.Equal(isGeneric, type.IsGenericTypeDefinition);
            Type written = isGeneric ? type.MakeGenericType([.. type.GetGenericArguments().Select(_ => typeof(int))]) : type;
            Assert.Equal(code, WellKnownTypes.CodeOf(written, out bool writtenGeneric));
            Assert.Equal(isGeneric, writtenGeneric);
        }
        Assert.Throws<ArgumentOutOfRangeException>(() => WellKnownTypes.FromCode(WellKnownTypes.FirstSessionCode, out _));
    }
}
