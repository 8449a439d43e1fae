using System.Reflection;

namespace Multiprocessing.TestApp;

/// <summary>
/// A real console app for the behaviors a test host cannot show (its own stdout, its normal
/// exit, being SIGKILLed, apphost and published shapes). <c>Multiprocessing.TestApp NAME args…</c>
/// runs <c>Scenarios.NAME(args)</c>; scenarios live in Scenarios.*.cs.
/// </summary>
public static class Program
{
    public static int Main(string[] args)
    {
        if (args.Length == 0) return Usage();
        MethodInfo? scenario = typeof(Scenarios).GetMethod(args[0], BindingFlags.Public | BindingFlags.Static, [typeof(string[])]);
        if (scenario is null) return Usage();
        return (int)scenario.Invoke(null, [args[1..]])!;
    }

    private static int Usage()
    {
        Console.Error.WriteLine("usage: Multiprocessing.TestApp SCENARIO [args…]; scenarios: " +
            string.Join(", ", typeof(Scenarios).GetMethods(BindingFlags.Public | BindingFlags.Static).Select(m => m.Name)));
        return 2;
    }
}
