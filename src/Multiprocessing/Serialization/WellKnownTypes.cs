namespace Multiprocessing.Serialization;

/// <summary>
/// How a type is written. Built-in types are a one-byte code instead of a name: an
/// assembly-qualified name is ~100–250 bytes to encode, send, decode and look up, and a small
/// message of built-in values named three or four of them, more than its data. Other types are
/// built from parts (assembly simple name and full name; generic definition and arguments;
/// element type) rather than an assembly-qualified name, because parsing one makes the runtime
/// load ICU (~30 ms of CPU in a child that otherwise needs no globalization). The codes in the
/// two switches are the wire format: append only, and bump the serializer's format version on
/// any other change. Switches, not arrays: a reader asks for one or two codes, and building a
/// table of all forty types (each typeof a type load, some in other assemblies) and its
/// dictionaries cost a spawned child ~1 ms before its target (timestamps around the first read).
/// </summary>
internal static class WellKnownTypes
{
    /// <summary>Followed by the assembly's simple name, the type's full name and its metadata token (not generic-constructed, not an array).</summary>
    public const int Named = 0;
    /// <summary>Followed by the generic definition and each type argument.</summary>
    public const int ConstructedGeneric = 1;
    /// <summary>Followed by the element type and the rank (0 for a vector, T[]).</summary>
    public const int ArrayOf = 2;
    private const int FirstWellKnown = 3;
    private const int ClosedCount = 26;
    private const int GenericCount = 14;

    /// <summary>The codes of <c>object</c>, <c>int</c> and <see cref="Action"/>, for a reader that matches a payload's shape byte by byte (<see cref="PlainStart"/>).</summary>
    public const int ObjectCode = FirstWellKnown + 0, Int32Code = FirstWellKnown + 6, ActionCode = FirstWellKnown + 25;

    /// <summary>Codes from here on name the payload's <see cref="Named"/> types in the order they were first written.</summary>
    public const int FirstSessionCode = FirstWellKnown + ClosedCount + GenericCount;

    /// <summary>Closed types: the code is <c>FirstWellKnown + index</c>.</summary>
    private static Type? Closed(int index) => index switch
    {
        0 => typeof(object),
        1 => typeof(bool),
        2 => typeof(byte),
        3 => typeof(sbyte),
        4 => typeof(short),
        5 => typeof(ushort),
        6 => typeof(int),
        7 => typeof(uint),
        8 => typeof(long),
        9 => typeof(ulong),
        10 => typeof(float),
        11 => typeof(double),
        12 => typeof(decimal),
        13 => typeof(char),
        14 => typeof(string),
        15 => typeof(DateTime),
        16 => typeof(TimeSpan),
        17 => typeof(DateTimeOffset),
        18 => typeof(Guid),
        19 => typeof(byte[]),
        20 => typeof(object[]),
        21 => typeof(int[]),
        22 => typeof(long[]),
        23 => typeof(double[]),
        24 => typeof(string[]),
        25 => typeof(Action),
        _ => null,
    };

    /// <summary>Generic definitions: the code (after the closed ones) is followed by each type argument.</summary>
    private static Type? Generic(int index) => index switch
    {
        0 => typeof(List<>),
        1 => typeof(Dictionary<,>),
        2 => typeof(KeyValuePair<,>),
        3 => typeof(Nullable<>),
        4 => typeof(HashSet<>),
        5 => typeof(ValueTuple<,>),
        6 => typeof(ValueTuple<,,>),
        7 => typeof(Tuple<,>),
        8 => typeof(Tuple<,,>),
        9 => typeof(Action<>),
        10 => typeof(Action<,>),
        11 => typeof(Func<>),
        12 => typeof(Func<,>),
        13 => typeof(Func<,,>),
        _ => null,
    };

    /// <summary>The code of a closed well-known type, or of the generic definition of <paramref name="type"/> (then <paramref name="isGeneric"/>); -1 for none.</summary>
    public static int CodeOf(Type type, out bool isGeneric)
    {
        isGeneric = false;
        if (Codes.Closed.TryGetValue(type, out int code)) return FirstWellKnown + code;
        if (type.IsConstructedGenericType && Codes.Generic.TryGetValue(type.GetGenericTypeDefinition(), out code))
        {
            isGeneric = true;
            return FirstWellKnown + ClosedCount + code;
        }
        return -1;
    }

    /// <summary>For a code in [3, <see cref="FirstSessionCode"/>): the closed type, or the generic definition (then <paramref name="isGeneric"/>).</summary>
    public static Type FromCode(int code, out bool isGeneric)
    {
        int index = code - FirstWellKnown;
        isGeneric = index >= ClosedCount;
        return (isGeneric ? Generic(index - ClosedCount) : Closed(index)) ?? throw new ArgumentOutOfRangeException(nameof(code), code, "not a well-known type code");
    }

    /// <summary>The writer's index, built on first use (a child that only reads never builds it).</summary>
    private static class Codes
    {
        internal static readonly Dictionary<Type, int> Closed = Index(ClosedCount, WellKnownTypes.Closed);
        internal static readonly Dictionary<Type, int> Generic = Index(GenericCount, WellKnownTypes.Generic);

        // A plain loop and Dictionary: LINQ and frozen collections cost more to load than they save.
        // Keyed by reference, like the serializer's other Type-keyed tables (SyncCache).
        private static Dictionary<Type, int> Index(int count, Func<int, Type?> type)
        {
            var index = new Dictionary<Type, int>(count, ReferenceEqualityComparer.Instance);
            for (int i = 0; i < count; i++) index[type(i)!] = i;
            return index;
        }
    }
}
