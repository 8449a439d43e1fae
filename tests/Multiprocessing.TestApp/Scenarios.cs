namespace Multiprocessing.TestApp;

/// <summary>Scenarios: <c>public static int Name(string[] args)</c>, one partial file per topic.</summary>
public static partial class Scenarios
{
    /// <summary>A closure's captured value reaches the child; the exit code comes back.</summary>
    public static int Smoke(string[] args)
    {
        int n = 7;
        var p = new Process(() => { Console.WriteLine($"child got {n}"); Environment.Exit(n * 6); });
        p.Start();
        p.Join();
        Console.WriteLine($"exit={p.ExitCode}");
        return 0;
    }
}
