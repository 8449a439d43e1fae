namespace Multiprocessing.TestApp;

/// <summary>Scenarios for cpython-behavior.md §8 items that need a fresh main process (a fresh name counter, a fresh key).</summary>
public static partial class Scenarios
{
    /// <summary>Item 3: prints this run's main authkey, so two runs can be compared.</summary>
    public static int Checklist1_PrintAuthKey(string[] args)
    {
        Console.WriteLine(Convert.ToHexString(Process.Current.AuthKey.ToArray()));
        // Whether making the key loaded OpenSSL (it should not: the key comes from /dev/urandom).
        if (OperatingSystem.IsLinux()) Console.WriteLine(File.ReadAllText("/proc/self/maps").Contains("libcrypto") ? "openssl" : "no openssl");
        return 0;
    }

    /// <summary>
    /// Items 7, 8, 9, 11, 20 with exact numbers: nothing else in this process creates a Process, so
    /// the counter starts at 1. The first child reports its grandchild's name through its exit code.
    /// </summary>
    public static int Checklist1_Naming(string[] args)
    {
        var p1 = new Process(() =>
        {
            // In the child: its own counter restarts, and the identity is the parent's plus one.
            var grandchild = new Process(() => { });
            Environment.Exit(Process.Current.Name == "Process-1" && grandchild.Name == "Process-1:1" ? 0 : 3);
        });
        var p2 = new Process(() => { });
        var p3 = new MyProc();
        var p4 = new Process(() => { }, name: "");
        var p5 = new Process(() => { });
        var p6 = new Process(() => { }, daemon: true);
        Console.WriteLine(p1.Name);
        Console.WriteLine(p2.Name);
        Console.WriteLine(p3.Name);
        Console.WriteLine(p4.Name);
        Console.WriteLine(p5);
        Console.WriteLine(p6);
        p1.Start();
        p1.Join();
        if (p1.ExitCode == 0) Console.WriteLine("child Process-1 made Process-1:1");
        else Console.WriteLine($"child exit code {p1.ExitCode}");
        return 0;
    }

    private sealed class MyProc : Process
    {
        // Explicit: with no constructor, base() is ambiguous between the protected (name, daemon)
        // constructor and the public (target, …) one.
        public MyProc() : base(name: null, daemon: null) { }

        public override void Run() { }
    }
}
