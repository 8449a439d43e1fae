namespace Multiprocessing.Serialization;

/// <summary>One byte before every value in the cold-cheap encoding.</summary>
internal enum Tag : byte
{
    Null = 0, True, False,
    Int32, Int64, Double, String, Bytes,
    Byte, SByte, Int16, UInt16, UInt32, UInt64, Single, Char, Decimal,
    DateTime, TimeSpan, Guid, DateTimeOffset,
    Enum, Array, List, Dictionary, Object, Delegate, Ref, Custom, Fallback, Type,
    // A HashSet: its items. A Dictionary or HashSet whose comparer is not the default: the comparer (KeyComparers) first.
    ComparedDictionary, Set, ComparedSet,
}
