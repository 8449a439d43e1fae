using System.Runtime.InteropServices;

namespace Multiprocessing.Spawning;

/// <summary>
/// What the current process knows about how it was hosted: the inputs of <see cref="ChildLaunch"/>.
/// <see cref="KeepChildDiagnostics"/>: children keep the runtime's debugger transport and
/// diagnostic IPC (<see cref="ChildLaunch.DiagnosticsOffVariables"/>).
/// </summary>
internal sealed record HostInfo(
    string? ProcessPath,
    string LibraryPath,
    string? RuntimeConfigPath,
    string? DepsPath,
    string RuntimeDirectory,
    bool StartupHooksSupported,
    bool FreezeSupportCalled,
    bool KeepChildDiagnostics = false)
{
    internal static HostInfo Current(bool freezeSupportCalled)
    {
        string? deps = FirstPath(AppContext.GetData("APP_CONTEXT_DEPS_FILES") as string);
        // Under the test host RUNTIME_CONFIG_FILES is null; the runtimeconfig sits beside the deps file.
        string? runtimeConfig = FirstPath(AppContext.GetData("RUNTIME_CONFIG_FILES") as string)
            ?? (deps is null ? null : Path.ChangeExtension(Path.ChangeExtension(deps, null), ".runtimeconfig.json"));
        bool hooks = !AppContext.TryGetSwitch("System.StartupHookProvider.IsSupported", out bool supported) || supported;
        return new HostInfo(
            Environment.ProcessPath,
            typeof(HostInfo).Assembly.Location,
            runtimeConfig,
            deps,
            RuntimeEnvironment.GetRuntimeDirectory(),
            hooks,
            freezeSupportCalled,
            KeepDiagnostics(System.Diagnostics.Debugger.IsAttached, Environment.GetEnvironmentVariable));
    }

    /// <summary>
    /// Whether children keep the runtime's diagnostics: while this process is debugged (so a
    /// child can be attached to as well), and whenever the environment already says how they
    /// should be set (the user's word, which children inherit unchanged) or names a diagnostic
    /// port (a monitoring tool that waits for the app and its children to connect).
    /// </summary>
    internal static bool KeepDiagnostics(bool debuggerAttached, Func<string, string?> environment)
    {
        if (debuggerAttached) return true;
        foreach (string prefix in s_configPrefixes)
        {
            foreach (string name in s_diagnosticsSettings)
            {
                if (environment(prefix + name) is not null) return true;
            }
        }
        return false;
    }

    private static readonly string[] s_configPrefixes = ["DOTNET_", "COMPlus_"];
    private static readonly string[] s_diagnosticsSettings = ["EnableDiagnostics", "EnableDiagnostics_IPC", "EnableDiagnostics_Debugger", "DiagnosticPorts"];

    private static string? FirstPath(string? list)
    {
        if (string.IsNullOrEmpty(list)) return null;
        string first = list.Split(';')[0]; // the host joins these with ';' on every OS
        return first.Length == 0 ? null : first;
    }
}
