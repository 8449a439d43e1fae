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
    /// <summary>The size of one element when arrays of <paramref name="element"/> travel raw.</summary>
    /// <remarks>Comparisons, not a Dictionary&lt;Type, int&gt;: its default key comparer is made by
    /// reflection on first use, ~1 ms of a child's cold start (timestamps around its first read).</remarks>
    public static bool IsRaw(Type element, out int size)
    {
        size = element == typeof(int) || element == typeof(uint) || element == typeof(float) ? 4
             : element == typeof(long) || element == typeof(ulong) || element == typeof(double) ? 8
             : element == typeof(short) || element == typeof(ushort) || element == typeof(char) ? 2
             : element == typeof(sbyte) ? 1
             : 0;
        return size != 0;
    }

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
