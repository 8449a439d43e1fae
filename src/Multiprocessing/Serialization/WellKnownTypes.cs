namespace Multiprocessing.Serialization;

/// <summary>
/// How a type is written. Built-in types are a one-byte code instead of a name: an
/// assembly-qualified name is ~100–250 bytes to encode, send, decode and look up, and a small
/// message of built-in values named three or four of them, more than its data. Other types are
/// built from parts (assembly simple name and full name; generic definition and arguments;
/// element type) rather than an assembly-qualified name, because parsing one makes the runtime
/// load ICU (~30 ms of CPU in a child that otherwise needs no globalization). The tables' order
/// is the wire format: append only, and bump the serializer's format version on any other change.
/// </summary>
internal static class WellKnownTypes
{
    private static readonly Type[] s_closed =
    [
        typeof(object), typeof(bool), typeof(byte), typeof(sbyte), typeof(short), typeof(ushort),
        typeof(int), typeof(uint), typeof(long), typeof(ulong), typeof(float), typeof(double),
        typeof(decimal), typeof(char), typeof(string), typeof(DateTime), typeof(TimeSpan),
        typeof(DateTimeOffset), typeof(Guid), typeof(byte[]), typeof(object[]), typeof(int[]),
        typeof(long[]), typeof(double[]), typeof(string[]), typeof(Action),
    ];

    /// <summary>Generic definitions: the code is followed by each type argument.</summary>
    private static readonly Type[] s_generic =
    [
        typeof(List<>), typeof(Dictionary<,>), typeof(KeyValuePair<,>), typeof(Nullable<>),
        typeof(HashSet<>), typeof(ValueTuple<,>), typeof(ValueTuple<,,>), typeof(Tuple<,>), typeof(Tuple<,,>),
        typeof(Action<>), typeof(Action<,>), typeof(Func<>), typeof(Func<,>), typeof(Func<,,>),
    ];

    private static readonly Dictionary<Type, int> s_closedCodes = Index(s_closed);
    private static readonly Dictionary<Type, int> s_genericCodes = Index(s_generic);

    /// <summary>Followed by the assembly's simple name, the type's full name and its metadata token (not generic-constructed, not an array).</summary>
    public const int Named = 0;
    /// <summary>Followed by the generic definition and each type argument.</summary>
    public const int ConstructedGeneric = 1;
    /// <summary>Followed by the element type and the rank (0 for a vector, T[]).</summary>
    public const int ArrayOf = 2;
    private const int FirstWellKnown = 3;

    /// <summary>Codes from here on name the payload's <see cref="Named"/> types in the order they were first written.</summary>
    public static int FirstSessionCode => FirstWellKnown + s_closed.Length + s_generic.Length;

    /// <summary>The code of a closed well-known type, or of the generic definition of <paramref name="type"/> (then <paramref name="isGeneric"/>); -1 for none.</summary>
    public static int CodeOf(Type type, out bool isGeneric)
    {
        isGeneric = false;
        if (s_closedCodes.TryGetValue(type, out int code)) return FirstWellKnown + code;
        if (type.IsConstructedGenericType && s_genericCodes.TryGetValue(type.GetGenericTypeDefinition(), out code))
        {
            isGeneric = true;
            return FirstWellKnown + s_closed.Length + code;
        }
        return -1;
    }

    /// <summary>For a code in [3, <see cref="FirstSessionCode"/>): the closed type, or the generic definition (then <paramref name="isGeneric"/>).</summary>
    public static Type FromCode(int code, out bool isGeneric)
    {
        int index = code - FirstWellKnown;
        isGeneric = index >= s_closed.Length;
        return isGeneric ? s_generic[index - s_closed.Length] : s_closed[index];
    }

    // A plain loop and Dictionary: this runs in every child's cold start, where LINQ and frozen
    // collections cost more to load than they save.
    private static Dictionary<Type, int> Index(Type[] types)
    {
        var index = new Dictionary<Type, int>(types.Length);
        for (int i = 0; i < types.Length; i++) index[types[i]] = i;
        return index;
    }
}
