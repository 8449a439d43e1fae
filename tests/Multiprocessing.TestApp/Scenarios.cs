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
        // What the launch gives the child: "0" (the runtime's diagnostics off), or this process's
        // own setting when it keeps them (the tests compare the lines).
        string own = Environment.GetEnvironmentVariable("DOTNET_EnableDiagnostics_IPC") ?? "unset";
        Console.WriteLine($"expected diagnostics variable: {(Multiprocessing.Spawning.HostInfo.Current(false).KeepChildDiagnostics ? own : "0")}");
        return 0;
    }
}
