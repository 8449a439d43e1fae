using System.Reflection;

namespace Multiprocessing;

/// <summary>
/// CPython flushes sys.stdout and sys.stderr when a child ends. Reading <c>Console.Out</c> to
/// flush it creates the writer (a descriptor dup, encoders, JIT) when the target never wrote:
/// ~5 ms of every no-op child's exit under strace. So only writers that exist are flushed; if
/// the runtime's field names ever change, every writer is flushed as before.
/// </summary>
internal static class ConsoleFlush
{
    private static readonly FieldInfo? s_out = typeof(Console).GetField("s_out", BindingFlags.NonPublic | BindingFlags.Static);
    private static readonly FieldInfo? s_error = typeof(Console).GetField("s_error", BindingFlags.NonPublic | BindingFlags.Static);

    internal static void FlushCreatedWriters()
    {
        Flush(s_out, () => Console.Out);
        Flush(s_error, () => Console.Error);
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
