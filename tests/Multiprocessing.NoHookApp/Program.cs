namespace Multiprocessing.NoHookApp;

/// <summary>
/// By default Main calls FreezeSupport first (a child returns from it never), then starts a
/// child. <c>nofreeze</c>: no call, so Start() must refuse with the message that says what to add.
/// </summary>
public static class Program
{
    public static int Main(string[] args)
    {
        // Unconditional except for "nofreeze": a child is re-executed with no arguments.
        if (!(args.Length > 0 && args[0] == "nofreeze")) Process.FreezeSupport();
        Console.WriteLine("main");
        int n = 7;
        var p = new Process(() => { Console.WriteLine($"child got {n}"); Environment.Exit(n * 6); });
        try
        {
            p.Start();
        }
        catch (NotSupportedException e)
        {
            Console.WriteLine(e.Message);
            return 3;
        }
        p.Join();
        Console.WriteLine($"exit={p.ExitCode}");
        return 0;
    }
}
