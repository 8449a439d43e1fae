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
    /// <summary>
    /// Once, at exit. Whether System.Console is loaded is asked then, of the loaded assemblies: an
    /// assembly-load handler watching for it from the start cost a spawned child ~15 type loads and
    /// first calls of ReadyToRun methods before its target (an EventPipe trace), and a call per
    /// assembly it loaded.
    /// </summary>
    internal static void FlushCreatedWriters()
    {
        if (Serialization.TypeResolver.FindLoaded("System.Console") is not null) FlushConsoleWriters();
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
