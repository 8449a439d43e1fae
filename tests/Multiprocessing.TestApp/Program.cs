using Multiprocessing;

namespace Multiprocessing.TestApp;

/// <summary>A console app whose scenarios the tests run as a real parent process (stdout, exit, apphost).</summary>
public static class Program
{
    public static int Main(string[] args)
    {
        string scenario = args.Length > 0 ? args[0] : "smoke";
        switch (scenario)
        {
            case "hostinfo":
                Console.WriteLine(Spawning.HostInfo.Current(false));
                Console.WriteLine(AppContext.GetData("RUNTIME_CONFIG_FILES"));
                return 0;
            case "smoke":
                int n = 7;
                var p = new Process(() => { Console.WriteLine($"child got {n}"); Environment.Exit(n * 6); });
                p.Start();
                p.Join();
                Console.WriteLine($"exit={p.ExitCode} {p}");
                return 0;
            default:
                Console.Error.WriteLine($"unknown scenario {scenario}");
                return 2;
        }
    }
}
