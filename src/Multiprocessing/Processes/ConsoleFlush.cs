using System.Reflection;

namespace Multiprocessing;

/// <summary>
/// CPython flushes sys.stdout and sys.stderr when a child ends. Reading <c>Console.Out</c> to
/// flush it creates the writer (a descriptor dup, encoders, JIT) when the target never wrote:
/// ~5 ms of every no-op child's exit under strace. So only writers that exist are flushed; if
/// the runtime's field names ever change, every writer is flushed as before. And a child whose
/// System.Console assembly never loaded has no writer at all: the reflection (and loading that
/// assembly for it) cost ~0.9 ms of a silent child's exit, measured with timestamps around it.
/// </summary>
internal static class ConsoleFlush
{
    private static volatile bool s_consoleLoaded = true;

    /// <summary>
    /// Called by the child host before any target code runs, when it knows System.Console is not
    /// loaded yet (the library's own Main touches nothing of it); until then every exit flushes.
    /// </summary>
    internal static void WatchFromColdStart()
    {
        s_consoleLoaded = false;
        AppDomain.CurrentDomain.AssemblyLoad += (_, e) =>
        {
            // By display name, which the serializer's type lookup reads (and the runtime caches)
            // anyway: the module's file name cost each load a path lookup and Path's static setup.
            if (!s_consoleLoaded && e.LoadedAssembly.FullName is { } name && name.StartsWith("System.Console,", StringComparison.Ordinal))
                s_consoleLoaded = true;
        };
    }

    /// <summary>Once, at exit: the lookups run only here, so watching costs nothing of System.Console.</summary>
    internal static void FlushCreatedWriters()
    {
        if (s_consoleLoaded) FlushConsoleWriters();
    }

    // Separate and not inlined: a ReadyToRun method resolves the types it names when first
    // entered, so naming Console in the method above would load System.Console to skip it.
    [System.Runtime.CompilerServices.MethodImpl(System.Runtime.CompilerServices.MethodImplOptions.NoInlining)]
    private static void FlushConsoleWriters()
    {
        Flush(typeof(Console).GetField("s_out", BindingFlags.NonPublic | BindingFlags.Static), () => Console.Out);
        Flush(typeof(Console).GetField("s_error", BindingFlags.NonPublic | BindingFlags.Static), () => Console.Error);
    }

    private static void Flush(FieldInfo? field, Func<TextWriter> writer)
    {
        try
        {
            if (field is null || field.GetValue(null) is not null) writer().Flush();
        }
        catch (Exception e) when (e is IOException or ObjectDisposedException or FieldAccessException)
        {
            // stdout or stderr closed by the target (CPython test: a child may close both and still exit 0).
        }
    }
}
