using System.Diagnostics;
using System.Reflection;
using Xunit.Sdk;

namespace Multiprocessing.Tests.Connections;

/// <summary>
/// One theory row per CPython peer: "python3" (whatever PATH gives), or a pyenv version
/// ("3.11", "3.13"). A row is skipped, not passed, when that interpreter is missing.
/// </summary>
[AttributeUsage(AttributeTargets.Method, AllowMultiple = true)]
internal sealed class PythonPeerAttribute : DataAttribute
{
    private static readonly Lazy<bool> s_python3 = new(() =>
        (Environment.GetEnvironmentVariable("PATH") ?? "").Split(':', StringSplitOptions.RemoveEmptyEntries)
            .Any(dir => File.Exists(Path.Combine(dir, "python3"))));

    private static readonly Lazy<string[]> s_pyenvVersions = new(ListPyenvVersions);

    private readonly object[] _row;

    public PythonPeerAttribute(string peer, params object[] more)
    {
        _row = [peer, .. more];
        if (!s_python3.Value) Skip = "no python3 on PATH";
        else if (peer != "python3" && PyenvVersion(peer) is null) Skip = $"pyenv lists no CPython {peer}";
    }

    public override IEnumerable<object[]> GetData(MethodInfo testMethod) => [_row];

    /// <summary>The installed pyenv version for "3.13" (e.g. "3.13.0"); null for "python3" or when absent.</summary>
    public static string? PyenvVersion(string peer) =>
        peer == "python3" ? null : s_pyenvVersions.Value.FirstOrDefault(v => v == peer || v.StartsWith(peer + ".", StringComparison.Ordinal));

    private static string[] ListPyenvVersions()
    {
        try
        {
            var psi = new ProcessStartInfo("pyenv", "versions --bare") { RedirectStandardOutput = true, UseShellExecute = false };
            using var p = System.Diagnostics.Process.Start(psi)!;
            string output = p.StandardOutput.ReadToEnd();
            return p.WaitForExit(10_000) && p.ExitCode == 0
                ? output.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries)
                : [];
        }
        catch (System.ComponentModel.Win32Exception)
        {
            return []; // no pyenv at all
        }
    }
}
