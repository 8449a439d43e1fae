using Xunit;
using Xunit.Abstractions;

namespace Multiprocessing.Tests.Processes;

/// <summary>
/// The process-behavior suite, written once and run once per start method: each start method
/// has a sealed subclass that supplies <see cref="Ctx"/>. Partial by topic (ProcessSuite.*.cs).
/// Every process made through <see cref="Track"/> is killed and reaped when the test ends.
/// </summary>
public abstract partial class ProcessSuite : IDisposable
{
    /// <summary>Generous bound for any wait: a loaded 2-core CI machine must never fail a correct test.</summary>
    protected static readonly TimeSpan Long = TimeSpan.FromSeconds(60);

    private readonly List<Process> _tracked = [];

    protected ProcessSuite(ITestOutputHelper output) => Output = output;

    /// <summary>The test's output, for measurements worth reading even when the test passes.</summary>
    protected ITestOutputHelper Output { get; }

    /// <summary>The context (start method) this run of the suite uses.</summary>
    protected abstract ProcessContext Ctx { get; }

    /// <summary>The class name this context gives default names ("SpawnProcess").</summary>
    protected abstract string ClassName { get; }

    protected Process Track(Process p)
    {
        lock (_tracked) _tracked.Add(p);
        return p;
    }

    protected Process Make(Action target, string? name = null, bool? daemon = null) => Track(Ctx.Process(target, name, daemon));

    protected Process Make(Delegate? target = null, object?[]? args = null, IReadOnlyDictionary<string, object?>? kwargs = null,
                           string? name = null, bool? daemon = null) => Track(Ctx.Process(target, args, kwargs, name, daemon));

    /// <summary>Starts, joins with a hard bound, and returns the exit code.</summary>
    protected static int RunToEnd(Process p)
    {
        p.Start();
        Assert.True(p.Join(Long), $"{p} did not end within {Long}");
        return p.ExitCode!.Value;
    }

    public void Dispose()
    {
        lock (_tracked)
        {
            foreach (Process p in _tracked) p.Dispose(); // kills and reaps anything still running
            _tracked.Clear();
        }
        CloseConnections();
        GC.SuppressFinalize(this);
    }
}

/// <summary>The suite under the <c>spawn</c> start method.</summary>
public sealed class SpawnProcessTests(ITestOutputHelper output) : ProcessSuite(output)
{
    protected override ProcessContext Ctx => Context.Get("spawn");
    protected override string ClassName => "SpawnProcess";
}

/// <summary>The suite under the <c>forkserver</c> start method (warm spare hosts).</summary>
public sealed class ForkServerProcessTests(ITestOutputHelper output) : ProcessSuite(output)
{
    protected override ProcessContext Ctx => Context.Get("forkserver");
    protected override string ClassName => "ForkServerProcess";
}
