using System.Reflection;
using System.Text;

namespace Multiprocessing.Spawning;

/// <summary>
/// The last few target methods a forkserver context started, for the next spares to compile
/// while idle (<see cref="SpareWarmUp"/>): an app tends to start the same few targets, and the
/// JIT compilation of a target in the spare that runs it was ~0.3–0.5 ms of the handoff from
/// <c>Start()</c> to its first line. Only methods a spare can find by assembly name and token:
/// no generic methods or types, no dynamic assemblies.
/// </summary>
internal sealed class RecentTargets
{
    private const int Capacity = 8;
    private readonly Lock _lock = new();
    private readonly List<(string Assembly, int Token)> _recent = [];

    internal void Note(MethodInfo method)
    {
        if (method.IsGenericMethod || method.DeclaringType is not { IsGenericType: false } || method.Module.Assembly.IsDynamic ||
            method.Module != method.Module.Assembly.ManifestModule || method.Module.Assembly.GetName().Name is not { } name)
            return;
        var entry = (name, method.MetadataToken);
        lock (_lock)
        {
            _recent.Remove(entry);
            _recent.Insert(0, entry);
            if (_recent.Count > Capacity) _recent.RemoveAt(Capacity);
        }
    }

    /// <summary>One <c>token@assembly</c> per line, most recent first.</summary>
    internal string ToVariable()
    {
        var text = new StringBuilder();
        lock (_lock)
        {
            foreach ((string assembly, int token) in _recent) text.Append(token).Append('@').Append(assembly).Append('\n');
        }
        return text.ToString();
    }

    /// <summary>The spare's side: the (assembly, token) pairs of <see cref="ToVariable"/>'s text; malformed lines are skipped.</summary>
    internal static List<(string Assembly, int Token)> Parse(string? text)
    {
        var entries = new List<(string, int)>();
        foreach (string line in (text ?? "").Split('\n', StringSplitOptions.RemoveEmptyEntries))
        {
            int at = line.IndexOf('@');
            if (at > 0 && at < line.Length - 1 && ChildLaunch.ParseDescriptor(line[..at]) is { } token) entries.Add((line[(at + 1)..], token));
        }
        return entries;
    }
}
