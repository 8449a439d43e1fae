using System.Collections.Concurrent;
using System.Diagnostics;
using System.Net;
using System.Text;
using Xunit;
using Xunit.Sdk;

namespace Multiprocessing.Tests.Connections;

/// <summary>
/// Runs <c>cpython_peer.py</c> under a real CPython: <c>python3</c> from PATH as it is, or a pyenv
/// version (<c>PYENV_VERSION</c>). Reads its stdout line by line with bounded waits and kills it
/// on dispose, so a broken peer can neither hang a test nor outlive it.
/// </summary>
internal sealed class CPythonPeer : IDisposable
{
    public static readonly TimeSpan Wait = TimeSpan.FromSeconds(60);

    private readonly System.Diagnostics.Process _process;
    private readonly BlockingCollection<string?> _lines = new();
    private readonly StringBuilder _stderr = new();

    private CPythonPeer(string peer, string[] args)
    {
        var psi = new ProcessStartInfo("python3")
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        psi.ArgumentList.Add(Path.Combine(AppContext.BaseDirectory, "Connections", "cpython_peer.py"));
        foreach (string a in args) psi.ArgumentList.Add(a);
        string? pyenvVersion = PythonPeerAttribute.PyenvVersion(peer);
        if (pyenvVersion is not null) psi.Environment["PYENV_VERSION"] = pyenvVersion;
        _process = new System.Diagnostics.Process { StartInfo = psi };
        _process.OutputDataReceived += (_, e) => _lines.Add(e.Data); // null: stdout closed
        _process.ErrorDataReceived += (_, e) => { lock (_stderr) _stderr.AppendLine(e.Data); };
        _process.Start();
        _process.BeginOutputReadLine();
        _process.BeginErrorReadLine();
    }

    /// <summary>Starts <c>cpython_peer.py ARGS</c> under <paramref name="peer"/> ("python3", "3.11", "3.13").</summary>
    public static CPythonPeer Start(string peer, params string[] args) => new(peer, args);

    public string Stderr { get { lock (_stderr) return _stderr.ToString(); } }

    /// <summary>The next stdout line, which must start with <paramref name="tag"/> + ' '; returns the rest.</summary>
    public string Expect(string tag)
    {
        if (!_lines.TryTake(out string? line, Wait))
            throw new XunitException($"python printed no '{tag}' line within {Wait.TotalSeconds} s; stderr: {Stderr}");
        if (line is null || !line.StartsWith(tag + " ", StringComparison.Ordinal))
            throw new XunitException($"expected a '{tag}' line from python, got {line ?? "end of output"}; stderr: {Stderr}");
        return line[(tag.Length + 1)..];
    }

    /// <summary>Checks the version line: a pinned pyenv version must really be the one running.</summary>
    public string ExpectVersion(string peer)
    {
        string version = Expect("version");
        if (peer != "python3") Assert.Equal(peer, version);
        return version;
    }

    /// <summary>The exit code, waiting at most <see cref="Wait"/>.</summary>
    public int ExitCode()
    {
        if (!_process.WaitForExit(Wait)) throw new XunitException($"python did not exit within {Wait.TotalSeconds} s");
        _process.WaitForExit(); // drains the redirected output
        return _process.ExitCode;
    }

    /// <summary>The address a listener peer printed: a socket path, or an <see cref="IPEndPoint"/>.</summary>
    public static object ParseAddress(string text) =>
        text.StartsWith("tcp:", StringComparison.Ordinal) ? IPEndPoint.Parse(text[4..]) : text;

    /// <summary>How a peer is told our listener's address.</summary>
    public static string FormatAddress(object address) => address is IPEndPoint ip ? "tcp:" + ip : (string)address;

    public void Dispose()
    {
        try
        {
            if (!_process.HasExited) _process.Kill(entireProcessTree: true);
            _process.WaitForExit(Wait);
        }
        finally
        {
            _process.Dispose();
        }
    }
}
