namespace Multiprocessing.Serialization;

/// <summary>
/// Types written as a one-byte code instead of an assembly-qualified name. A name is ~100–250
/// bytes to encode, send, decode and look up; a small message of built-in values named three or
/// four of them, more than its data. The order is the wire format: append only, and bump the
/// serializer's format version on any other change.
/// </summary>
internal static class WellKnownTypes
{
    private static readonly Type[] s_closed =
    [
        typeof(object), typeof(bool), typeof(byte), typeof(sbyte), typeof(short), typeof(ushort),
        typeof(int), typeof(uint), typeof(long), typeof(ulong), typeof(float), typeof(double),
        typeof(decimal), typeof(char), typeof(string), typeof(DateTime), typeof(TimeSpan),
        typeof(DateTimeOffset), typeof(Guid), typeof(byte[]), typeof(object[]), typeof(int[]),
        typeof(long[]), typeof(double[]), typeof(string[]),
    ];

    /// <summary>Generic definitions: the code is followed by each type argument.</summary>
    private static readonly Type[] s_generic =
    [
        typeof(List<>), typeof(Dictionary<,>), typeof(KeyValuePair<,>), typeof(Nullable<>),
        typeof(HashSet<>), typeof(ValueTuple<,>), typeof(ValueTuple<,,>), typeof(Tuple<,>), typeof(Tuple<,,>),
    ];

    private static readonly Dictionary<Type, int> s_closedCodes = Index(s_closed);
    private static readonly Dictionary<Type, int> s_genericCodes = Index(s_generic);

    /// <summary>Codes 1.. name closed types, then generic definitions; 0 and codes from <see cref="FirstSessionCode"/> on are the writer's.</summary>
    public static int FirstSessionCode => 1 + s_closed.Length + s_generic.Length;

    /// <summary>The code of a closed well-known type, or of the generic definition of <paramref name="type"/> (then <paramref name="isGeneric"/>); 0 for none.</summary>
    public static int CodeOf(Type type, out bool isGeneric)
    {
        isGeneric = false;
        if (s_closedCodes.TryGetValue(type, out int code)) return 1 + code;
        if (type.IsConstructedGenericType && s_genericCodes.TryGetValue(type.GetGenericTypeDefinition(), out code))
        {
            isGeneric = true;
            return 1 + s_closed.Length + code;
        }
        return 0;
    }

    /// <summary>For a code in [1, <see cref="FirstSessionCode"/>): the closed type, or the generic definition (then <paramref name="isGeneric"/>).</summary>
    public static Type FromCode(int code, out bool isGeneric)
    {
        isGeneric = code > s_closed.Length;
        return isGeneric ? s_generic[code - 1 - s_closed.Length] : s_closed[code - 1];
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
