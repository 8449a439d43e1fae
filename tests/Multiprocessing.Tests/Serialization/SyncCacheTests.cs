using Multiprocessing.Serialization;
using Xunit;

namespace Multiprocessing.Tests.Serialization;

/// <summary>The serializer's lock-free memo table (copy on write) and the locks made on first use.</summary>
public class SyncCacheTests
{
    [Fact]
    public void A_value_is_computed_once_when_nobody_races_and_then_served_from_the_table()
    {
        var cache = new SyncCache<string, string>(StringComparer.Ordinal);
        int calls = 0;
        Assert.False(cache.TryGetValue("a", out _));
        Assert.Equal("A", cache.GetOrAdd("a", k => { calls++; return k.ToUpperInvariant(); }));
        Assert.Equal("A", cache.GetOrAdd("a", k => { calls++; return "other"; }));
        Assert.True(cache.TryGetValue("a", out string? found));
        Assert.Equal("A", found);
        Assert.Equal(1, calls);
    }

    [Fact]
    public void Racing_additions_never_give_a_wrong_value_and_every_key_ends_up_in_the_table()
    {
        var cache = new SyncCache<string, string>(StringComparer.Ordinal);
        string[] keys = Enumerable.Range(0, 2000).Select(i => "k" + i).ToArray();
        using var start = new Barrier(4);
        var threads = Enumerable.Range(0, 4).Select(t => new Thread(() =>
        {
            start.SignalAndWait();
            foreach (string k in t % 2 == 0 ? keys : keys.Reverse())
                Assert.Equal("v" + k, cache.GetOrAdd(k, key => "v" + key));
        })).ToArray();
        foreach (var th in threads) th.Start();
        foreach (var th in threads) Assert.True(th.Join(TimeSpan.FromSeconds(60)));
        // An entry lost to a racing copy is computed again on the next ask, and then kept.
        foreach (string k in keys) Assert.Equal("v" + k, cache.GetOrAdd(k, key => "v" + key));
        foreach (string k in keys) Assert.True(cache.TryGetValue(k, out string? v) && v == "v" + k, k);
    }

    [Fact]
    public void A_lazy_lock_is_made_once_however_many_threads_ask_first()
    {
        Lock? field = null;
        var seen = new Lock[8];
        using var start = new Barrier(seen.Length);
        var threads = Enumerable.Range(0, seen.Length).Select(i => new Thread(() => { start.SignalAndWait(); seen[i] = LazyLock.Get(ref field); })).ToArray();
        foreach (var th in threads) th.Start();
        foreach (var th in threads) Assert.True(th.Join(TimeSpan.FromSeconds(60)));
        Assert.True(field is not null);
        foreach (Lock l in seen) Assert.True(l == field, "every thread got the one lock");
    }
}
