using System.Collections.Concurrent;

namespace Multiprocessing.Connections;

/// <summary>
/// The files this process's listeners leave in the file system. CPython unlinks a listener's
/// socket file when it is closed or, failing that, at interpreter exit (a <c>Finalize</c>), and
/// removes its <c>pymp-*</c> temp directory at exit; this does the same on process exit, so a
/// listener the program never closed leaves no stale socket behind.
/// </summary>
internal static class UnixSocketFiles
{
    private static readonly ConcurrentDictionary<string, byte> s_open = new(StringComparer.Ordinal);
    private static readonly Lazy<string> s_tempDirectory = new(CreateTempDirectory);

    static UnixSocketFiles() => AppDomain.CurrentDomain.ProcessExit += (_, _) => CleanUp();

    /// <summary>This process's private directory for arbitrary listener addresses, created on first use.</summary>
    internal static string TempDirectory => s_tempDirectory.Value;

    /// <summary>Remembers a socket file to unlink at exit unless <see cref="Unlink"/> runs first.</summary>
    internal static void Track(string path) => s_open[path] = 0;

    /// <summary>Unlinks a socket file now (a missing file is fine) and forgets it.</summary>
    internal static void Unlink(string path)
    {
        s_open.TryRemove(path, out _);
        File.Delete(path);
    }

    private static string CreateTempDirectory() =>
        // Mode 0700 on Unix, as tempfile.mkdtemp: other users cannot reach sockets inside it.
        Directory.CreateTempSubdirectory("mpnet-").FullName;

    private static void CleanUp()
    {
        foreach (string path in s_open.Keys)
        {
            try { Unlink(path); }
            catch (IOException) { } // best effort at exit: nothing to report to
            catch (UnauthorizedAccessException) { }
        }
        if (!s_tempDirectory.IsValueCreated) return;
        try { Directory.Delete(s_tempDirectory.Value, recursive: true); }
        catch (IOException) { }
        catch (UnauthorizedAccessException) { }
    }
}
