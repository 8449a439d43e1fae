using Multiprocessing.Spawning;

namespace Multiprocessing;

/// <summary>
/// A start method and the factories that use it (CPython's context objects). Processes made
/// here are named after the context's class, <c>SpawnProcess-N</c>.
/// </summary>
public sealed class ProcessContext
{
    internal ProcessContext(IStartMethod method, string processClassName)
    {
        Method = method;
        ProcessClassName = processClassName;
    }

    internal IStartMethod Method { get; }
    internal string ProcessClassName { get; }

    /// <summary>"spawn" or "forkserver".</summary>
    public string StartMethod => Method.Name;

    /// <summary>
    /// Default <see cref="Process.KillOnParentDeath"/> for processes created afterwards under this
    /// context (false, as in CPython).
    /// </summary>
    public bool KillOnParentDeath { get; set; }

    /// <summary>This context (CPython <c>ctx.get_context()</c>).</summary>
    public ProcessContext GetContext() => this;

    /// <summary>Always throws: a concrete context's method is fixed.</summary>
    /// <exception cref="ArgumentException"><c>cannot set start method of concrete context</c>.</exception>
    public void SetStartMethod(string? method) =>
        throw new ArgumentException("cannot set start method of concrete context"); // no paramName: Message stays CPython's exact text

    /// <summary>A process running <paramref name="target"/> with <paramref name="args"/> and <paramref name="kwargs"/>.</summary>
    public Process Process(Delegate? target = null, object?[]? args = null, IReadOnlyDictionary<string, object?>? kwargs = null,
                           string? name = null, bool? daemon = null) =>
        new(this, ProcessClassName, target, args, kwargs, name, daemon);

    /// <summary>A process running <paramref name="target"/>.</summary>
    public Process Process(Action target, string? name = null, bool? daemon = null) =>
        new(this, ProcessClassName, target, null, null, name, daemon);

    /// <summary>A process running <paramref name="target"/>, awaited in the child.</summary>
    public Process Process(Func<Task> target, string? name = null, bool? daemon = null) =>
        new(this, ProcessClassName, target, null, null, name, daemon);

    /// <summary>Repr, like CPython's context objects.</summary>
    public override string ToString() => $"<{ProcessClassName.Replace("Process", "Context", StringComparison.Ordinal)} {StartMethod}>";
}
