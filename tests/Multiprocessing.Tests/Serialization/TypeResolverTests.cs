using System.Reflection;
using Multiprocessing.Serialization;
using Xunit;

namespace Multiprocessing.Tests.Serialization;

/// <summary>How a payload's field (a name and a metadata token) is found in the reading process.</summary>
public class TypeResolverTests
{
    private sealed class Holder
    {
        public int First = 1;
        public string Second = "";
        public static int Shared = 2;
    }

    private sealed class Other
    {
        public int First = 3;
    }

    private sealed class Box<T>
    {
        public T? Value = default;
    }

    private static FieldInfo Field(Type t, string name) =>
        t.GetField(name, BindingFlags.Instance | BindingFlags.Static | BindingFlags.Public | BindingFlags.NonPublic)!;

    [Fact]
    public void A_field_is_found_by_its_token_even_when_the_name_names_no_field()
    {
        FieldInfo second = Field(typeof(Holder), nameof(Holder.Second));
        Assert.Equal(second, TypeResolver.FindInstanceField(typeof(Holder), "renamed", second.MetadataToken));
    }

    [Fact]
    public void A_token_that_names_no_instance_field_of_the_type_falls_back_to_the_name()
    {
        FieldInfo first = Field(typeof(Holder), nameof(Holder.First));
        // Another type's field, a static field, a method's token and a token past the table.
        foreach (int token in new[]
                 {
                     Field(typeof(Other), nameof(Other.First)).MetadataToken,
                     Field(typeof(Holder), nameof(Holder.Shared)).MetadataToken,
                     typeof(TypeResolverTests).GetMethod(nameof(Field), BindingFlags.Static | BindingFlags.NonPublic)!.MetadataToken,
                     0x04FFFFFF,
                 })
        {
            Assert.Equal(first, TypeResolver.FindInstanceField(typeof(Holder), nameof(Holder.First), token));
            Assert.Null(TypeResolver.FindInstanceField(typeof(Holder), "missing", token));
        }
    }

    [Fact]
    public void A_constructed_generic_type_finds_its_field_by_name_with_the_type_arguments_applied()
    {
        FieldInfo definition = typeof(Box<>).GetField(nameof(Box<int>.Value))!;
        FieldInfo? found = TypeResolver.FindInstanceField(typeof(Box<int>), nameof(Box<int>.Value), definition.MetadataToken);
        Assert.NotNull(found);
        Assert.Equal(typeof(int), found.FieldType);
        Assert.Equal(typeof(Box<int>), found.DeclaringType);
    }
}
