using System.Net.Sockets;
using System.Runtime.Serialization;
using Multiprocessing.Serialization;
using Xunit;

namespace Multiprocessing.Tests.Serialization;

public enum Color : short { Red = 1, Green = 2, Blue = -3 }

public sealed class Node
{
    public string Name = "";
    public Node? Next;
    public List<Node> Children = [];
}

public struct Point
{
    public int X;
    public double Y;
    public string? Label;
}

public sealed class Holder
{
    public Point Where;
    public Node? Inner;
    public Dictionary<string, int[]> Table = [];
}

public sealed class StreamHolder
{
    public Stream? Log;
}

public sealed class Adder(int bias)
{
    private readonly int _bias = bias;
    public int Add(int x) => x + _bias;
}

public class SerializerTests
{
    private static readonly BinarySerializer S = ProcessSerialization.Serializer;

    private static object? RoundTrip(object? value, SerializationPurpose purpose = SerializationPurpose.Message) =>
        S.Deserialize(S.Serialize(value, purpose));

    public static TheoryData<object?> Scalars() => new()
    {
        null, true, false, 0, -1, int.MaxValue, long.MinValue, 3.25, double.NaN, "", "héllo ✓", (byte)200, (sbyte)-5,
        (short)-300, (ushort)65000, uint.MaxValue, ulong.MaxValue, 1.5f, 'λ', 79228162514264337593543950335m, -0.0001m,
        new DateTime(2024, 2, 29, 13, 14, 15, DateTimeKind.Utc), new DateTime(2000, 1, 1, 0, 0, 0, DateTimeKind.Local),
        TimeSpan.FromMilliseconds(-1234.5), Guid.Parse("0f8fad5b-d9cb-469f-a165-70867728950e"),
        new DateTimeOffset(2020, 5, 6, 7, 8, 9, TimeSpan.FromHours(-4)), Color.Blue, typeof(Dictionary<string, List<int>>),
    };

    [Theory]
    [MemberData(nameof(Scalars))]
    public void Scalars_round_trip_with_type_and_value(object? value)
    {
        object? back = RoundTrip(value);
        Assert.Equal(value, back);
        Assert.Equal(value?.GetType(), back?.GetType());
        if (value is DateTime dt) Assert.Equal(dt.Kind, ((DateTime)back!).Kind);
    }

    [Fact]
    public void Bytes_arrays_lists_and_dictionaries_round_trip()
    {
        byte[] bytes = [0, 1, 255, 7];
        Assert.Equal(bytes, (byte[])RoundTrip(bytes)!);
        Assert.Equal(new[] { "a", null, "c" }, (string?[])RoundTrip(new[] { "a", null, "c" })!);
        Assert.Equal(new[] { 1.5, 2.5 }, (double[])RoundTrip(new[] { 1.5, 2.5 })!);
        var list = new List<object?> { 1, "two", null, new List<int> { 3 } };
        var listBack = Assert.IsType<List<object?>>(RoundTrip(list));
        Assert.Equal(1, listBack[0]);
        Assert.Equal("two", listBack[1]);
        Assert.Null(listBack[2]);
        Assert.Equal([3], Assert.IsType<List<int>>(listBack[3]));
        var dict = new Dictionary<int, string?> { [1] = "one", [-2] = null };
        Assert.Equal(dict, Assert.IsType<Dictionary<int, string?>>(RoundTrip(dict)));
    }

    [Fact]
    public void Tuples_round_trip()
    {
        Assert.Equal((1, "x", 2.5), RoundTrip((1, "x", 2.5)));
        Assert.Equal(Tuple.Create(1, "y"), RoundTrip(Tuple.Create(1, "y")));
        Assert.Equal(new KeyValuePair<string, int>("k", 9), RoundTrip(new KeyValuePair<string, int>("k", 9)));
    }

    [Fact]
    public void Nested_user_classes_and_structs_round_trip()
    {
        var h = new Holder
        {
            Where = new Point { X = 3, Y = -1.5, Label = "p" },
            Inner = new Node { Name = "root", Children = [new Node { Name = "kid" }] },
            Table = { ["a"] = [1, 2], ["b"] = [] },
        };
        var back = Assert.IsType<Holder>(RoundTrip(h));
        Assert.Equal(3, back.Where.X);
        Assert.Equal(-1.5, back.Where.Y);
        Assert.Equal("p", back.Where.Label);
        Assert.Equal("root", back.Inner!.Name);
        Assert.Equal("kid", Assert.Single(back.Inner.Children).Name);
        Assert.Equal([1, 2], back.Table["a"]);
        Assert.Empty(back.Table["b"]);
    }

    [Fact]
    public void Cycles_and_shared_references_keep_identity()
    {
        var a = new Node { Name = "a" };
        var b = new Node { Name = "b", Next = a };
        a.Next = b;
        var shared = new Node { Name = "s" };
        a.Children = [shared, shared];
        var back = Assert.IsType<Node>(RoundTrip(a));
        Assert.Equal("b", back.Next!.Name);
        Assert.Same(back, back.Next.Next);
        Assert.Same(back.Children[0], back.Children[1]);

        var arr = new object[2];
        arr[0] = arr; // an array containing itself
        arr[1] = "x";
        var arrBack = Assert.IsType<object[]>(RoundTrip(arr));
        Assert.Same(arrBack, arrBack[0]);
    }

    private static int Twice(int x) => 2 * x;

    /// <summary>A non-capturing lambda in a generic method: its target is the singleton of <c>&lt;&gt;c&lt;T&gt;</c>.</summary>
    private static Func<string> NameOf<T>() => () => typeof(T).Name;

    /// <summary>A capturing lambda in a generic method: its target is a <c>&lt;&gt;c__DisplayClass&lt;T&gt;</c>.</summary>
    private static Func<string> Tagged<T>(string tag) => () => tag + typeof(T).Name;

    [Fact]
    public void Delegates_to_static_and_instance_methods_and_lambdas_round_trip()
    {
        var f = Assert.IsType<Func<int, int>>(RoundTrip((Func<int, int>)Twice));
        Assert.Equal(14, f(7));
        var g = Assert.IsType<Func<int, int>>(RoundTrip((Func<int, int>)new Adder(100).Add));
        Assert.Equal(107, g(7));
        int k = 5;
        var h = Assert.IsType<Func<int, int>>(RoundTrip((Func<int, int>)(x => x * k)));
        Assert.Equal(35, h(7));
        var noCapture = Assert.IsType<Func<int, int>>(RoundTrip((Func<int, int>)(x => x - 1)));
        Assert.Equal(6, noCapture(7));
        Action multi = () => { };
        multi += () => { };
        Assert.Equal(2, Assert.IsType<Action>(RoundTrip(multi)).GetInvocationList().Length);
        Func<string> generic = Assert.IsType<Func<string>>(RoundTrip(NameOf<Guid>()));
        Assert.Equal("Guid", generic());
        // In a generic method the target is the compiler's own <>c<T> singleton, not a copy:
        // Delegate.Method finds the instantiation through it.
        Assert.Same(NameOf<Guid>().Target, generic.Target);
        Assert.Equal(NameOf<Guid>().Method, generic.Method);
        Assert.Equal("id:Int64", Assert.IsType<Func<string>>(RoundTrip(Tagged<long>("id:")))());
    }

    [Fact]
    public void A_capture_free_lambda_that_makes_cached_lambdas_still_runs_them()
    {
        // Its nested capture-free lambdas live in <>c's static fields: reading them runs <>c's
        // static constructor on demand, though the outer delegate's target is null.
        Func<int[], int> sumOfSquares = xs => xs.Select(x => x * x).Aggregate(0, (a, b) => a + b);
        var decoded = Assert.IsType<Func<int[], int>>(RoundTrip(sumOfSquares));
        Assert.Equal(14, decoded([1, 2, 3]));
        // Closed over null, not over <>c's singleton (fetching it cost a spawned child two JIT
        // compilations): the same method, and it travels on again.
        Assert.Null(decoded.Target);
        Assert.Equal(sumOfSquares.Method, decoded.Method);
        Assert.Equal(30, Assert.IsType<Func<int[], int>>(RoundTrip(decoded))([1, 2, 3, 4]));
    }

    [Fact]
    public void Framework_types_use_the_MessagePack_fallback()
    {
        var queue = new Queue<int>([1, 5, 9]);
        Assert.Equal(queue, Assert.IsType<Queue<int>>(RoundTrip(queue)));
    }

    [Fact]
    public void A_hash_set_is_written_natively_with_its_shared_references()
    {
        var node = new Node { Name = "shared" };
        var set = new HashSet<object?> { 1, "two", null, node };
        List<object?> back = Assert.IsType<List<object?>>(RoundTrip(new List<object?> { set, node, set }));
        var setBack = Assert.IsType<HashSet<object?>>(back[0]);
        Assert.Equal(4, setBack.Count);
        Assert.Contains(1, setBack);
        Assert.Contains("two", setBack);
        Assert.Contains(null, setBack);
        Assert.Contains(back[1], setBack); // the node in the set is the node in the list
        Assert.Same(setBack, back[2]);
        Assert.True(new HashSet<string?> { "a", null }.SetEquals(Assert.IsType<HashSet<string?>>(RoundTrip(new HashSet<string?> { "a", null }))));
        Assert.Empty(Assert.IsType<HashSet<Guid>>(RoundTrip(new HashSet<Guid>())));
    }

    [Fact]
    public void A_thread_is_refused_naming_the_type_and_the_path()
    {
        var e = Assert.Throws<SerializationException>(() => S.Serialize(new List<object> { 1, new Thread(() => { }) }));
        Assert.Contains("Thread", e.Message);
        Assert.Contains("[1]", e.Message);
    }

    [Fact]
    public void A_stream_in_a_user_field_is_refused_naming_the_field()
    {
        using var ms = new MemoryStream();
        var e = Assert.Throws<SerializationException>(() => S.Serialize(new StreamHolder { Log = ms }));
        Assert.Contains("MemoryStream", e.Message);
        Assert.Contains("field 'Log'", e.Message);
    }

    [Fact]
    public void A_captured_FileStream_and_Socket_are_refused_naming_the_captured_variable()
    {
        string path = Path.GetTempFileName();
        try
        {
            using var file = new FileStream(path, FileMode.Open);
            Action a = () => file.Flush();
            var e = Assert.Throws<SerializationException>(() => S.Serialize(a));
            Assert.Contains("FileStream", e.Message);
            Assert.Contains("captured variable 'file'", e.Message);
        }
        finally { File.Delete(path); }

        using var sock = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        Action b = () => sock.Close();
        var e2 = Assert.Throws<SerializationException>(() => S.Serialize(b));
        Assert.Contains("Socket", e2.Message);
        Assert.Contains("captured variable 'sock'", e2.Message);
    }

    [Fact]
    public void A_lambda_carries_only_what_it_uses_even_when_a_sibling_captured_a_file_and_a_big_array()
    {
        string path = Path.GetTempFileName();
        try
        {
            using var file = new FileStream(path, FileMode.Open);
            byte[] big = new byte[10 * 1024 * 1024];
            int n = 42;
            // The sibling shares the compiler's display class with the lambda under test.
            Action sibling = () => { file.Write(big); n++; };
            Func<int> wanted = () => n + 1;
            byte[] payload = S.Serialize(wanted);
            Assert.True(payload.Length < 4096, $"payload is {payload.Length} bytes");
            var back = Assert.IsType<Func<int>>(S.Deserialize(payload));
            Assert.Equal(43, back());
            GC.KeepAlive(sibling);
        }
        finally { File.Delete(path); }
    }

    [Fact]
    public void Async_lambda_captures_travel()
    {
        int a = 20;
        string s = "x";
        Func<Task<string>> f = async () => { await Task.Yield(); return s + a; };
        var back = Assert.IsType<Func<Task<string>>>(RoundTrip(f));
        Assert.Equal("x20", back().GetAwaiter().GetResult());
    }

    [Fact]
    public void Nested_closures_reach_the_outer_scope()
    {
        int outer = 3;
        Func<int, Func<int>> make = null!;
        {
            int middle = 4;
            make = inner => () => outer * 100 + middle * 10 + inner;
        }
        var back = Assert.IsType<Func<int>>(RoundTrip(make(5)));
        Assert.Equal(345, back());
    }

    [Fact]
    public void An_authentication_key_travels_only_with_a_process_start()
    {
        var key = new AuthenticationKey([1, 2, 3]);
        var e = Assert.Throws<SerializationException>(() => S.Serialize(key));
        Assert.Equal("Pickling an AuthenticationString object is disallowed for security reasons", e.Message);
        Assert.Throws<SerializationException>(() => S.Serialize(new List<object> { key }));
        Assert.Equal(key, RoundTrip(key, SerializationPurpose.ProcessStart));
    }

    [Fact]
    public void Fuzzed_and_truncated_payloads_fail_cleanly()
    {
        var valid = new List<byte[]>
        {
            S.Serialize(new Holder { Inner = new Node { Name = "n" }, Table = { ["k"] = [1] } }),
            S.Serialize(new Dictionary<string, object?> { ["a"] = 1, ["b"] = new[] { 1.0 }, ["c"] = (Func<int, int>)Twice }),
            S.Serialize(new HashSet<int> { 1, 2 }),
            S.Serialize(new Dictionary<string, int>(StringComparer.OrdinalIgnoreCase) { ["a"] = 1 }),
            S.Serialize(new HashSet<int>(new ModuloComparer(7)) { 3, 4 }),
        }; // five sources and three kinds of damage: every source meets every kind
        var rng = new Random(12345);
        var sw = System.Diagnostics.Stopwatch.StartNew();
        for (int i = 0; i < 12_000; i++)
        {
            byte[] data;
            byte[] src = valid[i % valid.Count];
            switch (i % 3)
            {
                case 0: data = src[..rng.Next(src.Length)]; break; // truncated
                case 1:
                    data = (byte[])src.Clone();
                    for (int j = rng.Next(1, 4); j > 0; j--) data[rng.Next(data.Length)] = (byte)rng.Next(256);
                    break;
                default:
                    data = new byte[rng.Next(1, 64)];
                    rng.NextBytes(data);
                    data[0] = BinarySerializer.FormatVersion; // past the version check
                    break;
            }
            try { S.Deserialize(data); }
            // Any managed exception describing the corruption is fine; these would be reader bugs instead.
            catch (Exception e) when (e is not (NullReferenceException or IndexOutOfRangeException or OutOfMemoryException or
                                                 AccessViolationException or InsufficientExecutionStackException))
            {
            }
        }
        Assert.True(sw.Elapsed < TimeSpan.FromSeconds(30), $"fuzzing took {sw.Elapsed}");
    }
}
