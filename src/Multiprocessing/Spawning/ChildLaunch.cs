namespace Multiprocessing.Spawning;

/// <summary>
/// The one place that knows the .NET host shapes and turns "run this payload in a fresh
/// process with the app's assemblies" into a command line. Pure: unit-testable without
/// starting anything.
/// <para>
/// Preferred: run the library's own <c>Main</c> under the app's runtimeconfig and deps file, so
/// the child loads exactly the app's assemblies but never runs the app's <c>Main</c> (no fork
/// bomb, whatever <c>Main</c> does) and the runtime still waits for foreground threads when
/// our <c>Main</c> returns. This covers <c>dotnet run</c>, <c>dotnet app.dll</c>, the apphost, a
/// published framework-dependent app and the test host. A self-contained app has no
/// <c>dotnet</c> muxer, so it is re-executed with a startup hook; a trimmed or NativeAOT app has
/// neither, and must call <c>Process.FreezeSupport()</c> first thing in <c>Main</c>, like
/// CPython's <c>freeze_support()</c> for frozen executables.
/// </para>
/// </summary>
internal static class ChildLaunch
{
    internal const string ChannelVariable = "MULTIPROCESSING_CHANNEL_FD";
    internal const string StartupHooksVariable = "DOTNET_STARTUP_HOOKS";
    /// <summary>Descriptors passed to the child besides its channel (connections given as arguments).</summary>
    internal const string DescriptorsVariable = "MULTIPROCESSING_INHERITED_FDS";

    internal static LaunchCommand Resolve(HostInfo host, int channelFd, IReadOnlyList<int> descriptors, Func<string, bool> fileExists)
    {
        var env = new Dictionary<string, string> { [ChannelVariable] = channelFd.ToString(System.Globalization.CultureInfo.InvariantCulture) };
        if (descriptors.Count > 0) env[DescriptorsVariable] = string.Join(',', descriptors);
        bool haveLibrary = host.LibraryPath.Length > 0 && fileExists(host.LibraryPath);

        if (haveLibrary && host.DepsPath is { } deps && host.RuntimeConfigPath is { } rc && fileExists(deps) && fileExists(rc) &&
            FindMuxer(host, fileExists) is { } muxer)
        {
            return new LaunchCommand(muxer, ["exec", "--runtimeconfig", rc, "--depsfile", deps, host.LibraryPath], env, LaunchKind.DotnetExec);
        }
        // Re-executing the muxer itself would need the app's path; only an app's own executable can be re-run bare.
        if (host.ProcessPath is { } self && !IsMuxer(self) && haveLibrary && host.StartupHooksSupported)
        {
            env[StartupHooksVariable] = host.LibraryPath;
            return new LaunchCommand(self, [], env, LaunchKind.StartupHook);
        }
        if (host.ProcessPath is { } exe && !IsMuxer(exe) && host.FreezeSupportCalled)
            return new LaunchCommand(exe, [], env, LaunchKind.FreezeSupport);

        throw new NotSupportedException(
            $"Cannot start a child process from '{host.ProcessPath ?? "this process"}': it is a trimmed, single-file or NativeAOT " +
            "application, which can run neither the Multiprocessing child host nor a startup hook. " +
            "Add `Multiprocessing.Process.FreezeSupport();` as the first statement of your Main method " +
            "(like Python's multiprocessing.freeze_support()).");
    }

    private static string MuxerName => OperatingSystem.IsWindows() ? "dotnet.exe" : "dotnet";

    private static bool IsMuxer(string path) => Path.GetFileName(path).Equals(MuxerName, StringComparison.OrdinalIgnoreCase);

    private static string? FindMuxer(HostInfo host, Func<string, bool> fileExists)
    {
        string exe = MuxerName;
        if (host.ProcessPath is { } p && IsMuxer(p))
            return p;
        // A framework-dependent app's runtime lives at <root>/shared/Microsoft.NETCore.App/<version>/.
        string candidate = Path.GetFullPath(Path.Combine(host.RuntimeDirectory, "..", "..", "..", exe));
        return fileExists(candidate) ? candidate : null;
    }
}
