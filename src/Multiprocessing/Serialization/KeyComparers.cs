using System.Reflection;

namespace Multiprocessing.Serialization;

/// <summary>
/// The comparer of a <see cref="Dictionary{TKey,TValue}"/> or <see cref="HashSet{T}"/> on the
/// wire: none for the default (the common case costs nothing), a code for the framework's
/// string comparers (their types are internal and culture-bound, so they cannot travel as
/// objects), else the comparer object itself. CPython has no comparers; dropping one silently
/// would change what the child's lookups find.
/// </summary>
internal static class KeyComparers
{
    internal const byte ObjectFollows = 0;

    // By code 1-6; the culture-aware ones are asked for again on reading (the current culture is the child's).
    private static StringComparer StringComparerOf(byte code) => code switch
    {
        1 => StringComparer.Ordinal,
        2 => StringComparer.OrdinalIgnoreCase,
        3 => StringComparer.InvariantCulture,
        4 => StringComparer.InvariantCultureIgnoreCase,
        5 => StringComparer.CurrentCulture,
        _ => StringComparer.CurrentCultureIgnoreCase,
    };

    private const byte ReferenceEquality = 7;

    private sealed record Accessor(PropertyInfo Comparer, object Default);
    private static readonly SyncCache<Type, Accessor> s_accessors = new(ReferenceEqualityComparer.Instance);

    /// <summary>The collection's comparer, or null when it is the key type's default.</summary>
    internal static object? Of(object collection, Type type)
    {
        object comparer;
        Accessor? accessor = null;
        if (collection is Dictionary<string, object?> common) comparer = common.Comparer;
        else
        {
            accessor = s_accessors.GetOrAdd(type, static t => new Accessor(
                t.GetProperty("Comparer")!,
                typeof(EqualityComparer<>).MakeGenericType(t.GetGenericArguments()[0]).GetProperty("Default")!.GetValue(null)!));
            comparer = accessor.Comparer.GetValue(collection)!;
        }
        // Equals: a key type's default comparer is one per type, not one instance. Ordinal
        // compares strings as the default does, so it needs no mention either.
        object defaultComparer = accessor?.Default ?? EqualityComparer<string>.Default;
        return comparer.Equals(defaultComparer) || ReferenceEquals(comparer, StringComparer.Ordinal) ? null : comparer;
    }

    internal static byte CodeOf(object comparer)
    {
        // Equals: StringComparer.CurrentCulture is a new instance per call, equal to another for the same culture.
        for (byte code = 1; code <= 6; code++)
            if (StringComparerOf(code).Equals(comparer)) return code;
        return comparer is ReferenceEqualityComparer ? ReferenceEquality : ObjectFollows;
    }

    /// <summary>The comparer a code names; <see cref="ObjectFollows"/> is the caller's to read.</summary>
    internal static object FromCode(byte code) => code switch
    {
        >= 1 and <= 6 => StringComparerOf(code),
        ReferenceEquality => ReferenceEqualityComparer.Instance,
        _ => throw new InvalidDataException($"corrupt payload: unknown comparer code {code}"),
    };
}
