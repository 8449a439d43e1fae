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
    /// <summary>Tells a child host it is a forkserver spare: warm up, then wait for a payload; EOF means "not needed".</summary>
    internal const string SpareVariable = "MULTIPROCESSING_WARM_HOST";

    /// <summary>The library's own Main takes the same facts as arguments (<see cref="ParseArguments"/>).</summary>
    internal const string ChannelArgument = "--channel-fd";
    internal const string DescriptorsArgument = "--inherited-fds";
    internal const string SpareArgument = "--spare";

    /// <summary>
    /// Set to "0" in a child's environment unless <see cref="HostInfo.KeepChildDiagnostics"/>: the
    /// runtime starts neither its debugger transport (two FIFOs in the temporary directory and a
    /// thread) nor its diagnostic IPC server (a Unix socket there and a thread), which a bare
    /// hello-world's start→exit spent ~2.5 ms of its ~49 on (alternating runs, 2-core VM), the
    /// largest single saving found for a spawned child. The cost: dotnet-trace, dotnet-counters,
    /// dotnet-dump and a debugger cannot attach to a child unless the parent is debugged or the
    /// environment sets these variables itself (<c>DOTNET_EnableDiagnostics=1</c>). Like any
    /// runtime setting given to a child through its environment, the programs the child starts
    /// inherit them (its own children keep them as they are); removing them in the child cost
    /// ~1.1 ms and ~0.08 MiB of private memory (the first change copies the environment into the
    /// runtime's dictionary; unsetenv(3) does not reach .NET's own copy). Startup profilers
    /// (<c>DOTNET_EnableDiagnostics_Profiler</c>) are left alone: turning them off saved nothing
    /// and would blind an APM agent.
    /// </summary>
    internal static readonly string[] DiagnosticsOffVariables = ["DOTNET_EnableDiagnostics_IPC", "DOTNET_EnableDiagnostics_Debugger"];

    /// <summary>The command that starts a child host for <paramref name="channelFd"/> and the <paramref name="descriptors"/> passed to it; a <paramref name="spare"/> is a forkserver spare.</summary>
    internal static LaunchCommand Resolve(HostInfo host, int channelFd, IReadOnlyList<int> descriptors, Func<string, bool> fileExists, bool spare = false)
    {
        string channel = channelFd.ToString(System.Globalization.CultureInfo.InvariantCulture);
        // The runtime settings come first; either launch kind adds what it tells the child.
        var env = new Dictionary<string, string>();
        if (!host.KeepChildDiagnostics)
        {
            foreach (string name in DiagnosticsOffVariables) env[name] = "0";
        }
        bool haveLibrary = host.LibraryPath.Length > 0 && fileExists(host.LibraryPath);

        if (haveLibrary && host.DepsPath is { } deps && host.RuntimeConfigPath is { } rc && fileExists(deps) && fileExists(rc) &&
            FindMuxer(host, fileExists) is { } muxer)
        {
            // Our own Main: the child's facts travel as arguments, which programs the child starts
            // never inherit, so it has nothing to remove from its environment (nor a user's own
            // DOTNET_STARTUP_HOOKS). The first Environment.SetEnvironmentVariable copies the whole
            // environment (~2 ms in a bare app; in the child much of it moved to the first P/Invoke).
            List<string> args = ["exec", "--runtimeconfig", rc, "--depsfile", deps, host.LibraryPath, ChannelArgument, channel];
            if (descriptors.Count > 0) args.AddRange([DescriptorsArgument, string.Join(',', descriptors)]);
            if (spare) args.Add(SpareArgument);
            return new LaunchCommand(muxer, args, env, LaunchKind.DotnetExec);
        }
        // The app's own Main runs first: only the environment reaches the library.
        env[ChannelVariable] = channel;
        if (descriptors.Count > 0) env[DescriptorsVariable] = string.Join(',', descriptors);
        if (spare) env[SpareVariable] = "1";
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

    /// <summary>
    /// The child's side of a <see cref="LaunchKind.DotnetExec"/> command line (the arguments after
    /// the library's path); null when <paramref name="args"/> does not name a channel. Hand-parsed:
    /// descriptor numbers without int.Parse, whose culture lookup loads ICU.
    /// </summary>
    internal static ChildStart? ParseArguments(string[] args)
    {
        int? channel = null;
        int[] descriptors = EmptyInts.Value;
        bool spare = false;
        for (int i = 0; i < args.Length; i++)
        {
            string a = args[i];
            if (a == ChannelArgument && i + 1 < args.Length) channel = ParseDescriptor(args[++i]);
            else if (a == DescriptorsArgument && i + 1 < args.Length) descriptors = ParseDescriptorList(args[++i]);
            else if (a == SpareArgument) spare = true;
            else return null; // not a command line this library wrote
        }
        return channel is { } fd ? new ChildStart(fd, descriptors, spare) : null;
    }

    /// <summary>
    /// A descriptor number from a command line, the environment or /proc: digits only. Not
    /// int.TryParse, whose culture lookup (even the invariant culture's) loads ICU.
    /// </summary>
    internal static int? ParseDescriptor(string? text)
    {
        if (string.IsNullOrEmpty(text) || text.Length > 9) return null;
        int value = 0;
        foreach (char c in text)
        {
            if (c is < '0' or > '9') return null;
            value = value * 10 + (c - '0');
        }
        return value;
    }

    /// <summary>
    /// A comma-separated list of descriptors above stdio, as <see cref="Resolve"/> writes it (no
    /// string.Split: the child's cold start pays for every helper it touches).
    /// </summary>
    internal static int[] ParseDescriptorList(string list)
    {
        int count = 1;
        foreach (char c in list) if (c == ',') count++;
        int[] fds = new int[count];
        int n = 0, start = 0;
        for (int i = 0; i <= list.Length; i++)
        {
            if (i < list.Length && list[i] != ',') continue;
            if (ParseDescriptor(list[start..i]) is { } fd && fd > 2) fds[n++] = fd;
            start = i + 1;
        }
        if (n == fds.Length) return fds;
        int[] valid = new int[n];
        Array.Copy(fds, valid, n);
        return valid;
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
