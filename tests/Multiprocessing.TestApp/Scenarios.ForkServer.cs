using Multiprocessing.Spawning;

namespace Multiprocessing.TestApp;

public static partial class Scenarios
{
    /// <summary>
    /// Uses forkserver once so a spare host is started, prints "spares: pid,…" once one is
    /// idle, then waits for stdin to close (the test SIGKILLs us instead).
    /// </summary>
    public static int ForkServerSpares(string[] args)
    {
        ProcessContext ctx = Context.Get("forkserver");
        var p = ctx.Process(() => { });
        p.Start();
        p.Join();
        var method = (ForkServerStartMethod)ctx.Method;
        var deadline = DateTime.UtcNow.AddSeconds(60);
        while (method.IdlePids.Count == 0 && DateTime.UtcNow < deadline) Thread.Sleep(20); // polling our own state, bounded
        Console.WriteLine("spares: " + string.Join(',', method.IdlePids));
        Console.Out.Flush();
        Console.In.ReadToEnd();
        return 0;
    }
}
