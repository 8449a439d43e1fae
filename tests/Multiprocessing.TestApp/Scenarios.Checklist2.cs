using System.Diagnostics;
using System.Globalization;
using System.Runtime.InteropServices;

namespace Multiprocessing.TestApp;

/// <summary>
/// cpython-behavior.md §8 items 46–82 that need a real parent: its own stdio, its normal exit,
/// being SIGKILLed. args[0] is the start method. Every child pid is printed as <c>pid=N</c> so
/// the test can kill what outlives the scenario.
/// </summary>
public static partial class Scenarios
{
    private static ProcessContext Ctx(string[] args) => Context.Get(args.Length > 0 ? args[0] : null);

    private static int RunChild(Process p)
    {
        p.Start();
        p.Join();
        Console.WriteLine($"exit={p.ExitCode}");
        return 0;
    }

    /// <summary>Item 53: a message on stderr, then exit 1 (the analogue of sys.exit('ignore this')).</summary>
    public static int Item053(string[] args) =>
        RunChild(Ctx(args).Process(() => { Console.Error.Write("ignore this\n"); Environment.Exit(1); }));

    /// <summary>Item 56: an unhandled exception: "Process NAME:" and the exception on stderr.</summary>
    public static int Item056(string[] args) =>
        RunChild(Ctx(args).Process(() => throw new DivideByZeroException("division by zero"), name: "Boom"));

    [DllImport("libc", EntryPoint = "kill")]
    private static extern int SysKill(int pid, int signal);

    /// <summary>Item 57: the child sends SIGINT to itself (CPython's KeyboardInterrupt).</summary>
    public static int Item057(string[] args) =>
        RunChild(Ctx(args).Process(() => { SysKill(Environment.ProcessId, 2); Thread.Sleep(TimeSpan.FromSeconds(60)); }, name: "Interrupted"));

    /// <summary>Item 59: the child's Console.In is at EOF though the parent's stdin holds data.</summary>
    public static int Item059(string[] args)
    {
        var p = Ctx(args).Process(() => Console.Out.Write($"read=[{Console.In.ReadToEnd()}] "));
        p.Start();
        p.Join();
        Console.WriteLine($"exit={p.ExitCode}");
        return 0;
    }

    /// <summary>Item 60: output without a newline or flush still reaches the parent's streams.</summary>
    public static int Item060(string[] args) =>
        RunChild(Ctx(args).Process(() => { Console.Out.Write("out-no-newline"); Console.Error.Write("err-no-newline"); }));

    /// <summary>Items 67: at the parent's normal exit the daemon is terminated, the worker joined.</summary>
    public static int Item067(string[] args)
    {
        string dir = args[1];
        var daemon = Ctx(args).Process(() => { Thread.Sleep(3000); File.WriteAllText(Path.Combine(dir, "daemon"), "done"); }, daemon: true);
        var worker = Ctx(args).Process(() => { Thread.Sleep(1500); File.WriteAllText(Path.Combine(dir, "worker"), "done"); });
        daemon.Start();
        worker.Start();
        Console.WriteLine($"pid={daemon.Pid}\npid={worker.Pid}");
        // Registered after the library's exit function, so it runs after it and sees the outcome.
        AppDomain.CurrentDomain.ProcessExit += (_, _) =>
            Console.WriteLine($"daemon-exit={daemon.ExitCode?.ToString(CultureInfo.InvariantCulture) ?? "None"}\nworker-exit={worker.ExitCode?.ToString(CultureInfo.InvariantCulture) ?? "None"}");
        return 0;
    }

    /// <summary>Item 68: the parent's exit is delayed until a non-daemon child finishes its 1.5 s of work.</summary>
    public static int Item068(string[] args)
    {
        var worker = Ctx(args).Process(() => Thread.Sleep(1500));
        worker.Start();
        Console.WriteLine($"pid={worker.Pid}");
        var sw = Stopwatch.StartNew();
        AppDomain.CurrentDomain.ProcessExit += (_, _) =>
            Console.WriteLine($"worker-exit={worker.ExitCode?.ToString(CultureInfo.InvariantCulture) ?? "None"}\nwaited-ms={(int)sw.ElapsedMilliseconds}");
        return 0;
    }

    /// <summary>Item 69: a daemon that ignores SIGTERM is waited for, never SIGKILLed.</summary>
    public static int Item069(string[] args)
    {
        string dir = args[1];
        string ready = Path.Combine(dir, "ready");
        var daemon = Ctx(args).Process(() =>
        {
            using var ignore = PosixSignalRegistration.Create(PosixSignal.SIGTERM, c => c.Cancel = true);
            File.WriteAllText(ready, "ready");
            Thread.Sleep(2500);
            File.WriteAllText(Path.Combine(dir, "daemon"), "done");
        }, daemon: true);
        daemon.Start();
        Console.WriteLine($"pid={daemon.Pid}");
        // The SIGTERM must arrive after the child ignores it, as in CPython's test.
        var sw = Stopwatch.StartNew();
        while (!File.Exists(ready) && sw.Elapsed < TimeSpan.FromSeconds(60)) Thread.Sleep(20);
        AppDomain.CurrentDomain.ProcessExit += (_, _) =>
            Console.WriteLine($"daemon-exit={daemon.ExitCode?.ToString(CultureInfo.InvariantCulture) ?? "None"}");
        return 0;
    }

    /// <summary>Item 71: prints a daemon's and a worker's pid, then blocks until the test SIGKILLs us.</summary>
    public static int Item071(string[] args)
    {
        var daemon = Ctx(args).Process(() => Thread.Sleep(TimeSpan.FromSeconds(60)), daemon: true);
        var worker = Ctx(args).Process(() => Thread.Sleep(TimeSpan.FromSeconds(60)));
        daemon.Start();
        worker.Start();
        Console.WriteLine($"pid={daemon.Pid}\npid={worker.Pid}\nready");
        Console.Out.Flush();
        Console.In.ReadToEnd();
        return 0;
    }

    /// <summary>Item 77: Main starts a child with no guard; marks each run of Main in args[1].</summary>
    public static int Item077(string[] args)
    {
        File.AppendAllText(args[1], "main\n");
        try
        {
            return RunChild(Ctx(args).Process(() => { }));
        }
        catch (InvalidOperationException e)
        {
            Console.Error.WriteLine(e.Message);
            return 1;
        }
    }

    /// <summary>Item 78: set_start_method twice, then with force.</summary>
    public static int Item078(string[] args)
    {
        Context.SetStartMethod(args[0]);
        try
        {
            Context.SetStartMethod(args[0]);
            Console.WriteLine("second=no error");
        }
        catch (InvalidOperationException e)
        {
            Console.WriteLine($"second={e.Message}");
        }
        Context.SetStartMethod(args[0], force: true);
        Console.WriteLine($"forced={Context.GetStartMethod()}");
        return RunChild(new Process(() => { }));
    }
}
