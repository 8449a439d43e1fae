using Xunit.Sdk;

namespace Multiprocessing.Tests.Connections;

/// <summary>Runs a blocking call on the pool and waits for it at most 60 s, so a hang fails the test instead of the run.</summary>
internal static class Bounded
{
    public static readonly TimeSpan Limit = TimeSpan.FromSeconds(60);

    /// <summary>Starts <paramref name="work"/> now; finish it with <see cref="Result{T}"/>.</summary>
    public static Task<T> Start<T>(Func<T> work) => Task.Run(work);

    /// <summary>The task's result or its exception (unwrapped), or a failure after <see cref="Limit"/>.</summary>
    public static T Result<T>(Task<T> task)
    {
        if (Task.WaitAny([task], Limit) < 0) throw new XunitException($"still blocked after {Limit.TotalSeconds} s");
        return task.GetAwaiter().GetResult();
    }

    /// <summary>Waits for <paramref name="task"/> at most <see cref="Limit"/>; rethrows its exception unwrapped.</summary>
    public static void Result(Task task)
    {
        if (Task.WaitAny([task], Limit) < 0) throw new XunitException($"still blocked after {Limit.TotalSeconds} s");
        task.GetAwaiter().GetResult();
    }

    public static T Run<T>(Func<T> work) => Result(Start(work));
}
