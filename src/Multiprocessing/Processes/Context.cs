using Multiprocessing.Spawning;

namespace Multiprocessing;

/// <summary>
/// Start-method selection (CPython <c>get_context</c>, <c>set_start_method</c>,
/// <c>get_start_method</c>, <c>get_all_start_methods</c>).
/// </summary>
/// <example><code>
/// var ctx = Context.Get("spawn");
/// var p = ctx.Process(() => Console.WriteLine("hi"));   // named SpawnProcess-1
/// </code></example>
public static class Context
{
    private static Lock? s_lock;
    private static ProcessContext? s_actual;
    /// <summary>The method the child host forced, made into <see cref="s_actual"/> on first use.</summary>
    private static string? s_forced;

    // One holder per method, made on first use: a spawned child forces its own method, and
    // making the other's start method too (a forkserver's spare list) cost it a dozen type loads.
    private static ProcessContext SpawnContext => SpawnHolder.Instance;
    private static ProcessContext ForkServerContext => ForkServerHolder.Instance;

    private static class SpawnHolder
    {
        internal static readonly ProcessContext Instance = new(new SpawnStartMethod(() => HostInfo.Current(Process.FreezeSupportCalled)), "SpawnProcess");
    }

    private static class ForkServerHolder
    {
        internal static readonly ProcessContext Instance = new(new ForkServerStartMethod(() => HostInfo.Current(Process.FreezeSupportCalled)), "ForkServerProcess");
    }

    /// <summary>The context for <paramref name="method"/>, or the default context when null.</summary>
    /// <exception cref="ArgumentException"><c>cannot find context for 'bogus'</c>.</exception>
    public static ProcessContext Get(string? method = null)
    {
        if (method is null) return Default;
        return method switch
        {
            "spawn" => SpawnContext,
            "forkserver" => ForkServerContext,
            _ => throw new ArgumentException($"cannot find context for {PyRepr.Str(method)}"), // no paramName: Message stays CPython's exact text
        };
    }

    /// <summary>Sets the default start method once; again only with <paramref name="force"/> (null with force resets it).</summary>
    /// <exception cref="InvalidOperationException"><c>context has already been set</c>.</exception>
    public static void SetStartMethod(string? method, bool force = false)
    {
        lock (LazyLock.Get(ref s_lock))
        {
            if (Actual is not null && !force) throw new InvalidOperationException("context has already been set");
            s_forced = null;
            if (method is null && force) { s_actual = null; return; }
            s_actual = Get(method ?? throw new ArgumentNullException(nameof(method)));
        }
    }

    /// <summary>The default start method (fixing it to "spawn" if none was set, as CPython does).</summary>
    public static string GetStartMethod()
    {
        lock (LazyLock.Get(ref s_lock))
        {
            s_actual = Actual ?? SpawnContext;
            return s_actual.StartMethod;
        }
    }

    /// <summary>The start methods available on this platform, the default first.</summary>
    public static IReadOnlyList<string> GetAllStartMethods() => ["spawn", "forkserver"];

    internal static ProcessContext Default
    {
        get
        {
            lock (LazyLock.Get(ref s_lock)) return Actual ?? SpawnContext;
        }
    }

    /// <summary>The set or forced context, under the lock; null if neither happened.</summary>
    private static ProcessContext? Actual
    {
        get
        {
            if (s_actual is null && Volatile.Read(ref s_forced) is { } forced) s_actual = Get(forced);
            return s_actual;
        }
    }

    /// <summary>
    /// In a child: grandchildren use the method that started this process (CPython
    /// <c>_force_start_method</c>). Only the name is kept until a grandchild needs the context:
    /// making it (its start method, host lookup) was a dozen type loads before every target. No
    /// lock: the child host calls this once, before any of the target's code runs (LazyLock).
    /// </summary>
    internal static void Force(string method)
    {
        if (!IsMethodName(method)) Get(method); // throws CPython's error
        Volatile.Write(ref s_forced, method);
    }

    /// <summary>True for a name <see cref="Get"/> knows, checked without making its context.</summary>
    internal static bool IsMethodName(string method) => method is "spawn" or "forkserver";
}
