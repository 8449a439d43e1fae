namespace Multiprocessing;

/// <summary>CPython's timeout convention on a task: null blocks, zero or negative polls once.</summary>
internal static class TaskWaits
{
    internal static bool Wait(Task task, TimeSpan? timeout)
    {
        if (task.IsCompleted) return true;
        if (timeout is { } t && t <= TimeSpan.Zero) return false;
        try
        {
            return timeout is { } limit
                ? task.Wait(limit > TimeSpan.FromMilliseconds(int.MaxValue) ? Timeout.InfiniteTimeSpan : limit)
                : task.Wait(Timeout.Infinite);
        }
        catch (AggregateException)
        {
            return task.IsCompleted;
        }
    }
}
