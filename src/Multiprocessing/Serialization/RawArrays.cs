using System.Runtime.InteropServices;

namespace Multiprocessing.Serialization;

/// <summary>
/// Arrays of numeric primitives travel as their memory, not element by element: boxing each
/// element through <see cref="Array.GetValue(int)"/> and tagging it cost ~20× the copy. Native
/// byte order is fine because both ends run on the same machine. <c>bool</c> and <c>decimal</c>
/// are left out: not every bit pattern is a valid value, and a corrupt payload must not make one.
/// </summary>
internal static class RawArrays
{
    private static readonly Dictionary<Type, int> s_elementSizes = new()
    {
        [typeof(sbyte)] = 1, [typeof(short)] = 2, [typeof(ushort)] = 2, [typeof(char)] = 2,
        [typeof(int)] = 4, [typeof(uint)] = 4, [typeof(float)] = 4,
        [typeof(long)] = 8, [typeof(ulong)] = 8, [typeof(double)] = 8,
    };

    /// <summary>The size of one element when arrays of <paramref name="element"/> travel raw.</summary>
    public static bool IsRaw(Type element, out int size) => s_elementSizes.TryGetValue(element, out size);

    /// <summary>The array's memory, when its element type travels raw.</summary>
    public static bool TryGetBytes(Array array, Type element, out ReadOnlySpan<byte> bytes)
    {
        if (!IsRaw(element, out int size))
        {
            bytes = default;
            return false;
        }
        bytes = MemoryMarshal.CreateReadOnlySpan(ref MemoryMarshal.GetArrayDataReference(array), checked(array.Length * size));
        return true;
    }

    /// <summary>A new array of <paramref name="count"/> elements filled from <paramref name="bytes"/> (exactly count × size long).</summary>
    public static Array Create(Type element, int count, ReadOnlySpan<byte> bytes)
    {
        Array array = Array.CreateInstance(element, count);
        bytes.CopyTo(MemoryMarshal.CreateSpan(ref MemoryMarshal.GetArrayDataReference(array), bytes.Length));
        return array;
    }
}
