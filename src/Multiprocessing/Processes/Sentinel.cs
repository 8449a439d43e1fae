namespace Multiprocessing;

/// <summary>
/// Becomes ready when a child process has ended and been reaped (CPython <c>Process.sentinel</c>).
/// Wait on it directly, through <see cref="WaitHandle"/>, or together with connections.
/// </summary>
public sealed class Sentinel
{
    private readonly Lazy<ManualResetEvent> _event;

    internal Sentinel(Task completion)
    {
        Completion = completion;
        _event = new Lazy<ManualResetEvent>(() =>
        {
            var e = new ManualResetEvent(false);
            completion.ContinueWith(_ => e.Set(), CancellationToken.None, TaskContinuationOptions.ExecuteSynchronously, TaskScheduler.Default);
            return e;
        });
    }

    internal Task Completion { get; }

    /// <summary>True once the process has ended.</summary>
    public bool IsReady => Completion.IsCompleted;

    /// <summary>A wait handle signalled when the process has ended.</summary>
    public WaitHandle WaitHandle => _event.Value;

    /// <summary>Waits for the process to end; null waits forever, zero or negative polls. True if it has ended.</summary>
    public bool Wait(TimeSpan? timeout = null) => TaskWaits.Wait(Completion, timeout);

    /// <summary>Completes when the process has ended.</summary>
    public Task WaitAsync(CancellationToken cancellationToken = default) => Completion.WaitAsync(cancellationToken);
}
