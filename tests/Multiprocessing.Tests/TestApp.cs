using System.Diagnostics;
using System.Text;
using Xunit;

namespace Multiprocessing.Tests;

/// <summary>
/// Runs a scenario of Multiprocessing.TestApp as a real parent process (<c>dotnet TestApp.dll
/// SCENARIO args…</c>) and returns its exit code and output. Kills the whole tree if it
/// overruns, so a broken scenario can never leave processes behind.
/// </summary>
public static class TestApp
{
    public static string DllPath => Path.Combine(AppContext.BaseDirectory, "Multiprocessing.TestApp.dll");

    public sealed record Result(int ExitCode, string Stdout, string Stderr, int Pid);

    /// <summary>Starts a scenario without waiting; the caller owns (and must kill) the process.</summary>
    public static System.Diagnostics.Process Start(string scenario, params string[] args)
    {
        var psi = new ProcessStartInfo("dotnet")
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            RedirectStandardInput = true,
            UseShellExecute = false,
        };
        psi.ArgumentList.Add(DllPath);
        psi.ArgumentList.Add(scenario);
        foreach (string a in args) psi.ArgumentList.Add(a);
        return System.Diagnostics.Process.Start(psi)!;
    }

    public static Result Run(string scenario, params string[] args) => Run(TimeSpan.FromSeconds(120), scenario, args);

    public static Result Run(TimeSpan timeout, string scenario, params string[] args)
    {
        using System.Diagnostics.Process p = Start(scenario, args);
        var stdout = new StringBuilder();
        var stderr = new StringBuilder();
        p.OutputDataReceived += (_, e) => { if (e.Data is not null) lock (stdout) stdout.Append(e.Data).Append('\n'); };
        p.ErrorDataReceived += (_, e) => { if (e.Data is not null) lock (stderr) stderr.Append(e.Data).Append('\n'); };
        p.BeginOutputReadLine();
        p.BeginErrorReadLine();
        p.StandardInput.Close();
        if (!p.WaitForExit(timeout))
        {
            p.Kill(entireProcessTree: true);
            p.WaitForExit();
            Assert.Fail($"TestApp {scenario} did not finish within {timeout}; stdout:\n{stdout}\nstderr:\n{stderr}");
        }
        p.WaitForExit(); // drains the redirected streams
        return new Result(p.ExitCode, stdout.ToString(), stderr.ToString(), p.Id);
    }
}
