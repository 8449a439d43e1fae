using Multiprocessing.Spawning;
using Xunit;

namespace Multiprocessing.Tests.Spawning;

public class ChildLaunchTests
{
    private const string Root = "/opt/dotnet";
    private const string RuntimeDir = Root + "/shared/Microsoft.NETCore.App/10.0.0/";
    private const string Lib = "/app/Multiprocessing.dll";

    private static HostInfo Host(string? processPath, string? rc = "/app/app.runtimeconfig.json", string? deps = "/app/app.deps.json",
                                 bool hooks = true, bool freeze = false) =>
        new(processPath, Lib, rc, deps, RuntimeDir, hooks, freeze);

    private static Func<string, bool> Files(params string[] existing) => p => existing.Contains(p);

    private static readonly Dictionary<string, string> DiagnosticsOff = new()
    {
        ["DOTNET_EnableDiagnostics_IPC"] = "0",
        ["DOTNET_EnableDiagnostics_Debugger"] = "0",
    };

    [Fact]
    public void The_real_test_host_resolves_to_dotnet_exec_with_the_library()
    {
        HostInfo host = HostInfo.Current(freezeSupportCalled: false);
        LaunchCommand cmd = ChildLaunch.Resolve(host, 3, [], File.Exists);
        Assert.Equal(LaunchKind.DotnetExec, cmd.Kind);
        Assert.True(File.Exists(cmd.FileName), cmd.FileName);
        Assert.Equal("exec", cmd.Arguments[0]);
        string[] main = [.. cmd.Arguments.SkipWhile(a => a != host.LibraryPath)];
        Assert.Equal([host.LibraryPath, ChildLaunch.ChannelArgument, "3"], main.Take(3));
        Assert.Equal(3, main.Length);
        Assert.Equal(host.KeepChildDiagnostics ? [] : DiagnosticsOff, cmd.Environment);
    }

    [Fact]
    public void Dotnet_app_dll_reuses_the_muxer_with_the_apps_runtimeconfig_and_deps()
    {
        LaunchCommand cmd = ChildLaunch.Resolve(Host("/usr/bin/dotnet"), 5, [7, 9],
            Files(Lib, "/app/app.runtimeconfig.json", "/app/app.deps.json"));
        Assert.Equal(LaunchKind.DotnetExec, cmd.Kind);
        Assert.Equal("/usr/bin/dotnet", cmd.FileName);
        Assert.Equal(["exec", "--runtimeconfig", "/app/app.runtimeconfig.json", "--depsfile", "/app/app.deps.json", Lib,
                      "--channel-fd", "5", "--inherited-fds", "7,9"], cmd.Arguments);
        // The child's facts are arguments, not variables: grandchildren never inherit them, and the
        // child need not remove them (its first SetEnvironmentVariable cost ~2 ms of a cold start).
        // Only the runtime's own settings travel in the environment.
        Assert.Equal(DiagnosticsOff, cmd.Environment);
    }

    [Fact]
    public void Kept_diagnostics_add_no_variables()
    {
        string[] files = [Lib, "/app/app.runtimeconfig.json", "/app/app.deps.json"];
        LaunchCommand exec = ChildLaunch.Resolve(Host("/usr/bin/dotnet") with { KeepChildDiagnostics = true }, 5, [], Files(files));
        Assert.Equal(LaunchKind.DotnetExec, exec.Kind);
        Assert.Empty(exec.Environment);

        LaunchCommand hook = ChildLaunch.Resolve(Host("/app/app") with { KeepChildDiagnostics = true }, 5, [], Files(files));
        Assert.Equal(LaunchKind.StartupHook, hook.Kind);
        Assert.Empty(hook.Environment.Keys.Intersect(ChildLaunch.DiagnosticsOffVariables));
    }

    [Fact]
    public void A_child_started_through_the_apps_executable_gets_the_same_runtime_settings()
    {
        LaunchCommand hook = ChildLaunch.Resolve(Host("/app/app"), 5, [], Files(Lib, "/app/app.runtimeconfig.json", "/app/app.deps.json"));
        Assert.Equal(LaunchKind.StartupHook, hook.Kind);
        foreach (string name in ChildLaunch.DiagnosticsOffVariables) Assert.Equal("0", hook.Environment[name]);
    }

    [Theory]
    [InlineData(true, null)]
    [InlineData(false, "DOTNET_EnableDiagnostics")]
    [InlineData(false, "DOTNET_EnableDiagnostics_IPC")]
    [InlineData(false, "DOTNET_EnableDiagnostics_Debugger")]
    [InlineData(false, "COMPlus_EnableDiagnostics")]
    [InlineData(false, "DOTNET_DiagnosticPorts")]
    public void Children_keep_diagnostics_while_debugged_or_when_the_environment_sets_them(bool debugged, string? variable)
    {
        Assert.True(HostInfo.KeepDiagnostics(debugged, name => name == variable ? "1" : null));
        Assert.False(HostInfo.KeepDiagnostics(false, name => name is "DOTNET_EnableDiagnostics_Profiler" or "PATH" ? "1" : null));
    }

    [Fact]
    public void The_library_Main_reads_back_what_a_dotnet_exec_launch_wrote()
    {
        LaunchCommand cmd = ChildLaunch.Resolve(Host("/usr/bin/dotnet"), 5, [7, 9],
            Files(Lib, "/app/app.runtimeconfig.json", "/app/app.deps.json"), spare: true);
        string[] mainArgs = [.. cmd.Arguments.SkipWhile(a => a != Lib).Skip(1)];
        ChildStart start = Assert.NotNull(ChildLaunch.ParseArguments(mainArgs));
        Assert.Equal(5, start.Channel);
        Assert.Equal([7, 9], start.Inherited);
        Assert.True(start.Spare);

        ChildStart plain = Assert.NotNull(ChildLaunch.ParseArguments(["--channel-fd", "4"]));
        Assert.Equal((4, 0, false), (plain.Channel, plain.Inherited.Length, plain.Spare));
    }

    [Theory]
    [InlineData("")]
    [InlineData("--channel-fd 5 extra")]
    public void The_child_host_started_by_hand_says_what_it_is_and_exits_2(string extra)
    {
        LaunchCommand cmd = ChildLaunch.Resolve(HostInfo.Current(freezeSupportCalled: false), 3, [], File.Exists);
        var psi = new System.Diagnostics.ProcessStartInfo(cmd.FileName)
        {
            UseShellExecute = false, RedirectStandardOutput = true, RedirectStandardError = true, RedirectStandardInput = true,
        };
        foreach (string a in cmd.Arguments.TakeWhile(a => a != ChildLaunch.ChannelArgument)) psi.ArgumentList.Add(a);
        foreach (string a in extra.Split(' ', StringSplitOptions.RemoveEmptyEntries)) psi.ArgumentList.Add(a);
        psi.Environment.Remove(ChildLaunch.ChannelVariable);
        using var host = System.Diagnostics.Process.Start(psi)!;
        try
        {
            host.StandardInput.Close();
            Task<string> stderr = host.StandardError.ReadToEndAsync();
            _ = host.StandardOutput.ReadToEndAsync();
            Assert.True(host.WaitForExit(TimeSpan.FromSeconds(60)), "the child host did not exit");
            host.WaitForExit();
            Assert.Equal(2, host.ExitCode);
            Assert.Contains("There is nothing to do here", stderr.Result);
        }
        finally
        {
            if (!host.HasExited) { host.Kill(); host.WaitForExit(TimeSpan.FromSeconds(30)); }
        }
    }

    [Theory]
    [InlineData("")]                     // `dotnet Multiprocessing.dll` by hand
    [InlineData("--channel-fd")]         // value missing
    [InlineData("--channel-fd x5")]      // not a descriptor number
    [InlineData("--spare")]              // no channel
    [InlineData("--channel-fd 5 extra")] // not a command line the library wrote
    public void Arguments_that_name_no_channel_are_not_a_child(string commandLine) =>
        Assert.Null(ChildLaunch.ParseArguments(commandLine.Split(' ', StringSplitOptions.RemoveEmptyEntries)));

    [Theory]
    [InlineData("", new int[0])]
    [InlineData("7", new[] { 7 })]
    [InlineData("7,9,12", new[] { 7, 9, 12 })]
    [InlineData("0,1,2,5", new[] { 5 })]          // stdio is never taken
    [InlineData("5,,x,-3,1234567890,8", new[] { 5, 8 })] // junk is skipped, not a crash
    public void Passed_descriptors_are_parsed_digit_by_digit(string list, int[] expected) =>
        Assert.Equal(expected, ChildLaunch.ParseDescriptorList(list));

    [Fact]
    public void A_framework_dependent_apphost_finds_the_muxer_from_the_runtime_directory()
    {
        LaunchCommand cmd = ChildLaunch.Resolve(Host("/app/app"), 3, [],
            Files(Lib, "/app/app.runtimeconfig.json", "/app/app.deps.json", Root + "/dotnet"));
        Assert.Equal(LaunchKind.DotnetExec, cmd.Kind);
        Assert.Equal(Root + "/dotnet", cmd.FileName);
        Assert.Equal([Lib, ChildLaunch.ChannelArgument, "3"], cmd.Arguments.TakeLast(3));
    }

    [Fact]
    public void A_self_contained_app_is_reexecuted_with_a_startup_hook()
    {
        // No muxer beside the runtime: the runtime directory is the app's own.
        LaunchCommand cmd = ChildLaunch.Resolve(Host("/app/app"), 3, [],
            Files(Lib, "/app/app.runtimeconfig.json", "/app/app.deps.json"));
        Assert.Equal(LaunchKind.StartupHook, cmd.Kind);
        Assert.Equal("/app/app", cmd.FileName);
        Assert.Empty(cmd.Arguments);
        Assert.Equal(Lib, cmd.Environment[ChildLaunch.StartupHooksVariable]);
        Assert.Equal("3", cmd.Environment[ChildLaunch.ChannelVariable]);
        Assert.False(cmd.Environment.ContainsKey(ChildLaunch.DescriptorsVariable));
        Assert.False(cmd.Environment.ContainsKey(ChildLaunch.SpareVariable));

        // The app's own Main runs first, so a spare is told through the environment too.
        LaunchCommand spare = ChildLaunch.Resolve(Host("/app/app"), 3, [6],
            Files(Lib, "/app/app.runtimeconfig.json", "/app/app.deps.json"), spare: true);
        Assert.Equal("6", spare.Environment[ChildLaunch.DescriptorsVariable]);
        Assert.Equal("1", spare.Environment[ChildLaunch.SpareVariable]);
    }

    [Fact]
    public void Without_startup_hooks_FreezeSupport_reexecutes_the_app()
    {
        LaunchCommand cmd = ChildLaunch.Resolve(Host("/app/app", rc: null, deps: null, hooks: false, freeze: true), 3, [], Files());
        Assert.Equal(LaunchKind.FreezeSupport, cmd.Kind);
        Assert.Equal("/app/app", cmd.FileName);
        Assert.False(cmd.Environment.ContainsKey(ChildLaunch.StartupHooksVariable));
    }

    [Fact]
    public void When_nothing_works_the_error_says_to_add_FreezeSupport()
    {
        var e = Assert.Throws<NotSupportedException>(() =>
            ChildLaunch.Resolve(Host("/app/app", rc: null, deps: null, hooks: false), 3, [], Files()));
        Assert.Contains("Process.FreezeSupport()", e.Message);
        Assert.Contains("/app/app", e.Message);

        // The muxer itself can never be re-run bare, even with FreezeSupport.
        Assert.Throws<NotSupportedException>(() =>
            ChildLaunch.Resolve(Host("/usr/bin/dotnet", rc: null, deps: null, freeze: true), 3, [], Files(Lib)));
    }

    [Theory]
    [InlineData(137, 137, 137)]   // exit(137) reported its exit frame
    [InlineData(137, null, -9)]   // SIGKILL
    [InlineData(143, null, -15)]  // SIGTERM
    [InlineData(0, null, 0)]
    [InlineData(1, null, 1)]
    [InlineData(3, 3, 3)]
    public void Exit_codes_map_like_CPython(int os, int? reported, int expected) =>
        Assert.Equal(expected, ChildHandle.ExitCodeFrom(os, reported));
}
