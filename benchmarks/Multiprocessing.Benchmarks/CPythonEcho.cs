using System.Globalization;
using SysProcess = System.Diagnostics.Process;

namespace Multiprocessing.Benchmarks;

/// <summary>
/// CPython's echo pair (<c>cpython_bench.py echo-batches</c>: a parent and its child over
/// <c>Pipe()</c>) driven a batch at a time, so <see cref="PipeRoundTrip"/> can alternate its own
/// batches with CPython's and compare both over the same stretch of the machine's time.
/// </summary>
internal sealed class CPythonEcho : IDisposable
{
    private readonly SysProcess _python;

    private CPythonEcho(SysProcess python) => _python = python;

    /// <summary>CPython 3.11's pair with <paramref name="method"/>, or null (and why) when python3 cannot start it.</summary>
    public static (CPythonEcho? Echo, string Why) Start(string method)
    {
        (SysProcess? python, string why) = Measure.StartCPythonBench(pyenvVersion: null, stdin: true, "echo-batches", method);
        return (python is null ? null : new CPythonEcho(python), why);
    }

    /// <summary>One batch of small-object round-trips; µs per round-trip.</summary>
    public double Small() => Ask("small");

    /// <summary>One 16 MiB round-trip; MiB/s.</summary>
    public double Big() => Ask("big");

    private double Ask(string what)
    {
        _python.StandardInput.WriteLine(what);
        _python.StandardInput.Flush();
        string? line = _python.StandardOutput.ReadLine();
        return line is not null ? double.Parse(line, CultureInfo.InvariantCulture)
            : throw new InvalidOperationException($"cpython_bench.py echo-batches ended: {_python.StandardError.ReadToEnd().Trim()}");
    }

    public void Dispose()
    {
        try
        {
            _python.StandardInput.Close(); // EOF: the script tells its child to quit and joins it
            if (!_python.WaitForExit(TimeSpan.FromSeconds(30))) _python.Kill(entireProcessTree: true);
            _python.WaitForExit();
        }
        finally
        {
            _python.Dispose();
        }
    }
}
