namespace Multiprocessing.Serialization;

/// <summary>
/// A process-wide memo table. A plain Dictionary under a lock rather than a
/// ConcurrentDictionary keyed by value tuples: a child runs its start path once, cold, and every
/// generic instantiation over a value type is JIT-compiled there (~20 methods for the
/// serializer's caches), while Dictionary over reference types is precompiled in CoreLib.
/// Caches keyed by <see cref="Type"/> pass <see cref="ReferenceEqualityComparer"/> (a runtime
/// type is one object per type): the default comparer for a key type is made by reflection on
/// first use, ~1 ms of a child's cold start.
/// </summary>
internal sealed class SyncCache<TKey, TValue> where TKey : class where TValue : class
{
    private readonly Dictionary<TKey, TValue> _entries;
    private readonly Lock _lock = new();

    public SyncCache(IEqualityComparer<TKey>? comparer = null) => _entries = new Dictionary<TKey, TValue>(comparer);

    public bool TryGetValue(TKey key, [System.Diagnostics.CodeAnalysis.MaybeNullWhen(false)] out TValue value)
    {
        lock (_lock) return _entries.TryGetValue(key, out value);
    }

    /// <summary>The cached value, or <paramref name="create"/>'s, computed outside the lock (two racing callers may both compute; one result wins).</summary>
    public TValue GetOrAdd(TKey key, Func<TKey, TValue> create)
    {
        if (TryGetValue(key, out TValue? known)) return known;
        TValue made = create(key);
        lock (_lock) return _entries.TryAdd(key, made) ? made : _entries[key];
    }
}
