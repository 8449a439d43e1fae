using System.Runtime.InteropServices;

namespace Multiprocessing.Spawning;

/// <summary>What the current process knows about how it was hosted: the inputs of <see cref="ChildLaunch"/>.</summary>
internal sealed record HostInfo(
    string? ProcessPath,
    string LibraryPath,
    string? RuntimeConfigPath,
    string? DepsPath,
    string RuntimeDirectory,
    bool StartupHooksSupported,
    bool FreezeSupportCalled)
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
            freezeSupportCalled);
    }

    private static string? FirstPath(string? list)
    {
        if (string.IsNullOrEmpty(list)) return null;
        string first = list.Split(';')[0]; // the host joins these with ';' on every OS
        return first.Length == 0 ? null : first;
    }
}
