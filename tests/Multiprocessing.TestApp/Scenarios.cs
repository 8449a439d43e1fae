namespace Multiprocessing.TestApp;

/// <summary>Scenarios: <c>public static int Name(string[] args)</c>, one partial file per topic.</summary>
public static partial class Scenarios
{
    /// <summary>A closure's captured value reaches the child; the exit code comes back.</summary>
    public static int Smoke(string[] args)
    {
        int n = 7;
        var p = new Process(() =>
        {
            Console.WriteLine($"child got {n}");
            Console.WriteLine($"child diagnostics variable: {Environment.GetEnvironmentVariable("DOTNET_EnableDiagnostics_IPC") ?? "unset"}");
            Environment.Exit(n * 6);
        });
        p.Start();
        p.Join();
        Console.WriteLine($"exit={p.ExitCode}");
        // The child's launch turned the runtime's diagnostics off with this variable; the child
        // removed it again, so what it saw is what this process has (the tests compare the lines).
        Console.WriteLine($"parent diagnostics variable: {Environment.GetEnvironmentVariable("DOTNET_EnableDiagnostics_IPC") ?? "unset"}");
        return 0;
    }
}
