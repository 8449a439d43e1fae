namespace Multiprocessing.Spawning;

/// <summary>How a child host is launched: program, arguments and the extra environment.</summary>
internal sealed record LaunchCommand(string FileName, IReadOnlyList<string> Arguments, IReadOnlyDictionary<string, string> Environment, LaunchKind Kind);

internal enum LaunchKind
{
    /// <summary><c>dotnet exec --runtimeconfig app --depsfile app Multiprocessing.dll</c>: the library's own Main with the app's dependency graph.</summary>
    DotnetExec,
    /// <summary>The same executable again, taken over before its Main by <c>DOTNET_STARTUP_HOOKS</c>.</summary>
    StartupHook,
    /// <summary>The same executable again; its Main calls <c>Process.FreezeSupport()</c> first.</summary>
    FreezeSupport,
}
