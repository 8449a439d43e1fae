using System.Diagnostics.CodeAnalysis;

namespace Multiprocessing;

/// <summary>
/// The empty keyword arguments of every process started without any. Not an empty
/// <see cref="Dictionary{TKey, TValue}"/>: that type resolves through the System.Collections
/// facade, and a spawned child whose start needs no collection would load it (~0.35 ms and
/// ~100 KiB of PSS) just to hold nothing.
/// </summary>
internal sealed class NoKeywordArguments : IReadOnlyDictionary<string, object?>
{
    internal static readonly NoKeywordArguments Instance = new();

    private NoKeywordArguments() { }

    public int Count => 0;
    public object? this[string key] => throw new KeyNotFoundException($"The given key '{key}' was not present in the dictionary.");
    public IEnumerable<string> Keys => [];
    public IEnumerable<object?> Values => [];
    public bool ContainsKey(string key) => false;

    public bool TryGetValue(string key, [MaybeNullWhen(false)] out object? value)
    {
        value = null;
        return false;
    }

    public IEnumerator<KeyValuePair<string, object?>> GetEnumerator() => ((IEnumerable<KeyValuePair<string, object?>>)[]).GetEnumerator();
    System.Collections.IEnumerator System.Collections.IEnumerable.GetEnumerator() => GetEnumerator();
}
