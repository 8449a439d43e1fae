namespace Multiprocessing.TestApp;

public static partial class Scenarios
{
    /// <summary>
    /// Opens a listener at an arbitrary address and one at the given path, prints both, and
    /// exits without closing either: the socket files and the private temp dir must still go.
    /// </summary>
    public static int ListenerLeftOpen(string[] args)
    {
        var arbitrary = new Listener();
        var named = new Listener(args[0]);
        Console.WriteLine($"arbitrary {arbitrary.Address}");
        Console.WriteLine($"named {named.Address}");
        Console.WriteLine($"exists {File.Exists((string)arbitrary.Address) && File.Exists((string)named.Address)}");
        return 0;
    }
}
