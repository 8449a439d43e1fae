using System.Diagnostics;
using System.Text;
using Multiprocessing.Spawning;
using Xunit;

namespace Multiprocessing.Tests.Spawning;

/// <summary>
/// Publishes the fixture apps once for <see cref="HostShapeTests"/>: the TestApp framework-dependent
/// (its apphost), and NoHookApp as a framework-dependent single-file app, the host shape with
/// neither an on-disk Multiprocessing.dll nor startup hooks, which only FreezeSupport can serve.
/// Built with --no-build where possible so it never races the build of the tests themselves.
/// </summary>
public sealed class PublishedApps : IDisposable
{
    public string Root { get; } = Path.Combine(Path.GetTempPath(), "mp-hostshapes-" + Guid.NewGuid().ToString("N"));
    public string TestAppDir => Path.Combine(Root, "testapp");
    public string NoHookDir => Path.Combine(Root, "nohook");
    public string Configuration { get; } = new DirectoryInfo(Path.TrimEndingDirectorySeparator(AppContext.BaseDirectory)).Parent!.Name; // bin/<Config>/net10.0
    public string RepoRoot { get; } = FindRepoRoot();

    private readonly Lazy<HostShapeTests.Run> _testAppPublish;
    private readonly Lazy<HostShapeTests.Run> _noHookPublish;

    public PublishedApps()
    {
        _testAppPublish = new(() => HostShapeTests.Exec("dotnet", RepoRoot,
            "publish", Path.Combine(RepoRoot, "tests", "Multiprocessing.TestApp"), "--no-build", "-c", Configuration, "-o", TestAppDir));
        _noHookPublish = new(() => HostShapeTests.Exec("dotnet", RepoRoot,
            "publish", Path.Combine(RepoRoot, "tests", "Multiprocessing.NoHookApp"), "-c", Configuration,
            "-p:NoHookSingleFile=true", "-o", NoHookDir));
    }

    public HostShapeTests.Run TestAppPublish => _testAppPublish.Value;
    public HostShapeTests.Run NoHookPublish => _noHookPublish.Value;

    private static string FindRepoRoot()
    {
        for (DirectoryInfo? d = new(AppContext.BaseDirectory); d is not null; d = d.Parent)
            if (File.Exists(Path.Combine(d.FullName, "Multiprocessing.slnx"))) return d.FullName;
        throw new DirectoryNotFoundException($"no Multiprocessing.slnx above {AppContext.BaseDirectory}");
    }

    public void Dispose()
    {
        try { Directory.Delete(Root, recursive: true); } catch (IOException) { } catch (UnauthorizedAccessException) { }
    }
}

/// <summary>
/// Spawn works, with no edit to the user's Main, in every host shape of the issue: <c>dotnet
/// app.dll</c>, the apphost, <c>dotnet run</c>, a published framework-dependent app (and an xunit
/// test under dotnet test: the whole process suite). Each runs the TestApp Smoke scenario, whose
/// child gets a captured value and returns an exit code.
/// </summary>
public sealed class HostShapeTests(PublishedApps apps) : IClassFixture<PublishedApps>
{
    public sealed record Run(int ExitCode, string Stdout, string Stderr);

    /// <summary>Runs a program to its end (bounded; the whole tree is killed if it overruns).</summary>
    public static Run Exec(string file, string workingDirectory, params string[] args)
    {
        var psi = new ProcessStartInfo(file)
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            RedirectStandardInput = true,
            UseShellExecute = false,
            WorkingDirectory = workingDirectory,
        };
        foreach (string a in args) psi.ArgumentList.Add(a);
        psi.Environment["DOTNET_CLI_TELEMETRY_OPTOUT"] = "1";
        psi.Environment["DOTNET_NOLOGO"] = "1";
        using var p = System.Diagnostics.Process.Start(psi)!;
        var stdout = new StringBuilder();
        var stderr = new StringBuilder();
        p.OutputDataReceived += (_, e) => { if (e.Data is not null) lock (stdout) stdout.Append(e.Data).Append('\n'); };
        p.ErrorDataReceived += (_, e) => { if (e.Data is not null) lock (stderr) stderr.Append(e.Data).Append('\n'); };
        p.BeginOutputReadLine();
        p.BeginErrorReadLine();
        p.StandardInput.Close();
        if (!p.WaitForExit(TimeSpan.FromSeconds(240)))
        {
            p.Kill(entireProcessTree: true);
            p.WaitForExit();
            Assert.Fail($"{file} {string.Join(' ', args)} did not finish; stdout:\n{stdout}\nstderr:\n{stderr}");
        }
        p.WaitForExit();
        return new Run(p.ExitCode, stdout.ToString(), stderr.ToString());
    }

    private static void AssertSmoke(Run r)
    {
        Assert.True(r.ExitCode == 0, $"exit {r.ExitCode}\nstdout:\n{r.Stdout}\nstderr:\n{r.Stderr}");
        Assert.Contains("child got 7", r.Stdout);
        Assert.Contains("exit=42", r.Stdout);
        // Every host shape's launch gives the child the runtime settings ChildLaunch chose.
        string[] lines = r.Stdout.Split('\n');
        string child = Assert.Single(lines, l => l.StartsWith("child diagnostics variable: ", StringComparison.Ordinal));
        string expected = Assert.Single(lines, l => l.StartsWith("expected diagnostics variable: ", StringComparison.Ordinal));
        Assert.Equal(expected["expected ".Length..], child["child ".Length..]);
    }

    [Fact]
    public void HostShape_dotnet_app_dll()
    {
        AssertSmoke(Exec("dotnet", AppContext.BaseDirectory, TestApp.DllPath, "Smoke"));
    }

    [Fact]
    public void HostShape_apphost()
    {
        // The SDK copies a referenced exe's apphost beside its dll in the test output.
        string apphost = Path.Combine(AppContext.BaseDirectory, "Multiprocessing.TestApp");
        if (!File.Exists(apphost))
            apphost = Path.Combine(apps.RepoRoot, "tests", "Multiprocessing.TestApp", "bin", apps.Configuration, "net10.0", "Multiprocessing.TestApp");
        Assert.True(File.Exists(apphost), $"no apphost at {apphost}");
        AssertSmoke(Exec(apphost, Path.GetTempPath(), "Smoke"));
    }

    [Fact]
    public void HostShape_dotnet_run()
    {
        // --no-build: the test build already built it; a second build could race it.
        AssertSmoke(Exec("dotnet", apps.RepoRoot, "run", "--no-build", "-c", apps.Configuration,
            "--project", Path.Combine(apps.RepoRoot, "tests", "Multiprocessing.TestApp"), "--", "Smoke"));
    }

    [Fact]
    public void HostShape_published_framework_dependent_apphost()
    {
        Run publish = apps.TestAppPublish;
        Assert.True(publish.ExitCode == 0, $"publish failed:\n{publish.Stdout}\n{publish.Stderr}");
        AssertSmoke(Exec(Path.Combine(apps.TestAppDir, "Multiprocessing.TestApp"), Path.GetTempPath(), "Smoke"));
    }

    /// <summary>
    /// NoHookApp disables startup hooks. Run from its build output (dll + deps + runtimeconfig)
    /// the dotnet-exec path serves it, so FreezeSupport is not needed there; published as a
    /// framework-dependent single file there is no Multiprocessing.dll on disk and no hook, so
    /// only FreezeSupport can start a child: its Main calls it, and the child must run the
    /// target without running Main's body again.
    /// </summary>
    [Fact]
    public void HostShape_single_file_without_startup_hooks_uses_FreezeSupport()
    {
        Run publish = apps.NoHookPublish;
        Assert.True(publish.ExitCode == 0, $"publish failed:\n{publish.Stdout}\n{publish.Stderr}");
        string exe = Path.Combine(apps.NoHookDir, "Multiprocessing.NoHookApp");
        Assert.False(File.Exists(Path.Combine(apps.NoHookDir, "Multiprocessing.dll")), "not a single-file app");

        Run r = Exec(exe, Path.GetTempPath(), "freeze");
        Assert.True(r.ExitCode == 0, $"exit {r.ExitCode}\nstdout:\n{r.Stdout}\nstderr:\n{r.Stderr}");
        Assert.Contains("child got 7", r.Stdout);
        Assert.Contains("exit=42", r.Stdout);
        Assert.Equal(1, r.Stdout.Split('\n').Count(l => l == "main")); // Main's body ran once: in the parent

        // Without the call, Start() refuses, saying what to add.
        Run bare = Exec(exe, Path.GetTempPath(), "nofreeze");
        Assert.Equal(3, bare.ExitCode);
        Assert.Contains("Multiprocessing.Process.FreezeSupport();", bare.Stdout);
    }

    private static HostInfo Host(string? processPath, string library, string? rc, string? deps, bool hooks, bool freeze) =>
        new(processPath, library, rc, deps, "/usr/share/dotnet/shared/Microsoft.NETCore.App/10.0.0/", hooks, freeze);

    [Fact]
    public void HostShape_resolve_prefers_dotnet_exec_when_deps_and_runtimeconfig_exist()
    {
        HostInfo h = Host("/app/App", "/app/Multiprocessing.dll", "/app/App.runtimeconfig.json", "/app/App.deps.json", hooks: false, freeze: false);
        LaunchCommand c = ChildLaunch.Resolve(h, 5, [], _ => true);
        Assert.Equal(LaunchKind.DotnetExec, c.Kind);
        Assert.Equal("/usr/share/dotnet/dotnet", c.FileName);
        Assert.Equal(["exec", "--runtimeconfig", "/app/App.runtimeconfig.json", "--depsfile", "/app/App.deps.json", "/app/Multiprocessing.dll",
                      "--channel-fd", "5"], c.Arguments);
    }

    [Fact]
    public void HostShape_resolve_self_contained_uses_a_startup_hook()
    {
        // Self-contained: no muxer beside the runtime, so the app itself is re-executed.
        HostInfo h = Host("/app/App", "/app/Multiprocessing.dll", "/app/App.runtimeconfig.json", "/app/App.deps.json", hooks: true, freeze: false);
        LaunchCommand c = ChildLaunch.Resolve(h, 5, [], p => p != "/usr/share/dotnet/dotnet");
        Assert.Equal(LaunchKind.StartupHook, c.Kind);
        Assert.Equal("/app/App", c.FileName);
        Assert.Equal("/app/Multiprocessing.dll", c.Environment[ChildLaunch.StartupHooksVariable]);
        Assert.Equal("5", c.Environment[ChildLaunch.ChannelVariable]);
    }

    [Fact]
    public void HostShape_resolve_NativeAOT_needs_FreezeSupport()
    {
        // NativeAOT / single file: no Multiprocessing.dll on disk, no startup hooks.
        HostInfo without = Host("/app/App", "", null, null, hooks: false, freeze: false);
        var e = Assert.Throws<NotSupportedException>(() => ChildLaunch.Resolve(without, 5, [], _ => true));
        Assert.Contains("Multiprocessing.Process.FreezeSupport();", e.Message);

        HostInfo with = without with { FreezeSupportCalled = true };
        LaunchCommand c = ChildLaunch.Resolve(with, 5, [], _ => true);
        Assert.Equal(LaunchKind.FreezeSupport, c.Kind);
        Assert.Equal("/app/App", c.FileName);
        Assert.Empty(c.Arguments);
        Assert.False(c.Environment.ContainsKey(ChildLaunch.StartupHooksVariable));
    }
}
