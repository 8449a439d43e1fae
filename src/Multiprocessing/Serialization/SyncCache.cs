namespace Multiprocessing.Serialization;

/// <summary>
/// A process-wide memo table, read and written without a lock: each addition publishes a new
/// dictionary (copy on write). The tables stay small (types, fields, constructed generics met so
/// far) and grow only while new types are met, so a copy per addition is cheap; a lock was not,
/// in a spawned child, whose type lookup took one before its target: the first <see cref="Lock"/>
/// a process makes runs Lock's static constructor (~0.4 ms cold) and the first it enters sets up
/// the thread's lock id (~0.3 ms, a JIT compilation), and a Monitor or a compare-exchange of a
/// reference resolves through the System.Threading facade (one more assembly load, ~0.35 ms).
/// Two threads adding at once may each publish a copy without the other's entry: a lost entry
/// is computed again when next asked for, so every value must be one that can be recomputed
/// (a lookup, not state). Dictionary over reference types rather than ConcurrentDictionary over
/// value tuples: every generic instantiation over a value type is JIT-compiled in a child.
/// Caches keyed by <see cref="Type"/> pass <see cref="ReferenceEqualityComparer"/> (a runtime
/// type is one object per type): the default comparer for a key type is made by reflection on
/// first use, ~1 ms of a child's cold start.
/// </summary>
internal sealed class SyncCache<TKey, TValue>(IEqualityComparer<TKey>? comparer = null) where TKey : class where TValue : class
{
    /// <summary>Never changed once published: an addition swaps in a copy.</summary>
    private Dictionary<TKey, TValue>? _entries;

    public bool TryGetValue(TKey key, [System.Diagnostics.CodeAnalysis.MaybeNullWhen(false)] out TValue value)
    {
        if (Volatile.Read(ref _entries) is { } entries) return entries.TryGetValue(key, out value);
        value = null;
        return false;
    }

    /// <summary>The cached value, or <paramref name="create"/>'s (two racing callers may both compute; either result may stay).</summary>
    public TValue GetOrAdd(TKey key, Func<TKey, TValue> create)
    {
        if (TryGetValue(key, out TValue? known)) return known;
        TValue made = create(key);
        Dictionary<TKey, TValue>? seen = Volatile.Read(ref _entries);
        if (seen is not null && seen.TryGetValue(key, out TValue? won)) return won;
        var next = seen is null ? new Dictionary<TKey, TValue>(comparer) : new Dictionary<TKey, TValue>(seen, comparer);
        next[key] = made;
        Volatile.Write(ref _entries, next);
        return made;
    }
}
