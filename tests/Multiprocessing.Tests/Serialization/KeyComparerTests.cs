using System.Runtime.Serialization;
using Multiprocessing.Serialization;
using Xunit;

namespace Multiprocessing.Tests.Serialization;

/// <summary>Keys equal modulo <see cref="Modulus"/>: a comparer of the application's own, with state.</summary>
public sealed class ModuloComparer(int modulus) : IEqualityComparer<int>
{
    public int Modulus { get; } = modulus;
    public bool Equals(int x, int y) => x % Modulus == y % Modulus;
    public int GetHashCode(int x) => (x % Modulus).GetHashCode();
}

/// <summary>A Dictionary's or HashSet's comparer arrives with it: a lookup in the child finds what it found in the parent.</summary>
public class KeyComparerTests
{
    private static readonly BinarySerializer S = ProcessSerialization.Serializer;

    private static T RoundTrip<T>(T value) => Assert.IsType<T>(S.Deserialize(S.Serialize(value, SerializationPurpose.Message)));

    public static TheoryData<string> StringComparers() =>
        ["OrdinalIgnoreCase", "InvariantCulture", "InvariantCultureIgnoreCase", "CurrentCulture", "CurrentCultureIgnoreCase"];

    private static StringComparer Named(string name) =>
        (StringComparer)typeof(StringComparer).GetProperty(name)!.GetValue(null)!;

    [Theory]
    [MemberData(nameof(StringComparers))]
    public void A_dictionary_keeps_its_string_comparer(string name)
    {
        var table = new Dictionary<string, int>(Named(name)) { ["Key"] = 1, ["other"] = 2 };
        Dictionary<string, int> back = RoundTrip(table);
        Assert.Equal(Named(name), back.Comparer);
        Assert.Equal(table.OrderBy(kv => kv.Key), back.OrderBy(kv => kv.Key));
        if (name.EndsWith("IgnoreCase", StringComparison.Ordinal)) Assert.Equal(1, back["KEY"]);
    }

    [Fact]
    public void A_hash_set_keeps_its_string_comparer()
    {
        var names = new HashSet<string>(StringComparer.OrdinalIgnoreCase) { "Alice", "bob" };
        HashSet<string> back = RoundTrip(names);
        Assert.Same(StringComparer.OrdinalIgnoreCase, back.Comparer);
        Assert.True(back.Contains("ALICE") && back.Contains("Bob"));
        Assert.Equal(2, back.Count);
    }

    [Fact]
    public void A_comparer_of_the_applications_own_travels_with_its_state_and_is_shared_as_it_was()
    {
        var comparer = new ModuloComparer(10);
        var first = new Dictionary<int, string>(comparer) { [3] = "three" };
        var second = new HashSet<int>(comparer) { 7 };
        List<object> back = RoundTrip(new List<object> { first, second, first });

        var firstBack = Assert.IsType<Dictionary<int, string>>(back[0]);
        var secondBack = Assert.IsType<HashSet<int>>(back[1]);
        Assert.Equal("three", firstBack[13]);
        Assert.Contains(17, secondBack);
        Assert.Equal(10, Assert.IsType<ModuloComparer>(firstBack.Comparer).Modulus);
        Assert.Same(firstBack.Comparer, secondBack.Comparer); // one comparer, as in the parent
        Assert.Same(firstBack, back[2]); // the reference numbering stays in step around the comparer
    }

    [Fact]
    public void Reference_equality_keys_stay_by_reference()
    {
        var table = new Dictionary<object, int>(ReferenceEqualityComparer.Instance) { ["a"] = 1 };
        Assert.Same(ReferenceEqualityComparer.Instance, RoundTrip(table).Comparer);
    }

    [Fact]
    public void The_default_comparer_and_ordinal_cost_nothing_on_the_wire()
    {
        byte[] plain = S.Serialize(new Dictionary<string, int> { ["a"] = 1 }, SerializationPurpose.Message);
        byte[] ordinal = S.Serialize(new Dictionary<string, int>(StringComparer.Ordinal) { ["a"] = 1 }, SerializationPurpose.Message);
        Assert.Equal(plain, ordinal);
        Assert.Equal(EqualityComparer<string>.Default, RoundTrip(new Dictionary<string, int>(StringComparer.Ordinal)).Comparer);
        var set = new HashSet<int> { 1, 2 };
        Assert.True(set.SetEquals(RoundTrip(set)));
    }

    [Fact]
    public void A_comparer_that_cannot_be_sent_is_refused_naming_the_collection()
    {
        var table = new Dictionary<string, int>(EqualityComparer<string>.Create((a, b) => a?.Length == b?.Length, s => s.Length));
        var e = Assert.Throws<SerializationException>(() => S.Serialize(new List<object> { table }, SerializationPurpose.Message));
        Assert.Contains("comparer", e.Message);
        Assert.Contains("[0]", e.Message);
    }

    [Fact]
    public void A_corrupt_comparer_code_is_an_error_not_a_crash()
    {
        byte[] data = S.Serialize(new Dictionary<string, int>(StringComparer.OrdinalIgnoreCase) { ["a"] = 1 }, SerializationPurpose.Message);
        byte[] other = S.Serialize(new Dictionary<string, int>(StringComparer.InvariantCulture) { ["a"] = 1 }, SerializationPurpose.Message);
        // The two payloads differ in one byte: the comparer's code.
        int[] differ = [.. Enumerable.Range(0, data.Length).Where(i => data[i] != other[i])];
        Assert.Equal(data.Length, other.Length);
        int at = Assert.Single(differ);
        data[at] = 99;
        Assert.Throws<InvalidDataException>(() => S.Deserialize(data));
    }
}
