using Multiprocessing.Benchmarks;

// The library's Main is the child host, but a child started from this app also runs this app's
// assemblies; nothing here runs in a child, so no FreezeSupport call is needed.
// Before anything else: the `first-start` copy times from here, and Main must not name the
// library's types (compiling it would load the library before the clock starts).
long t0 = System.Diagnostics.Stopwatch.GetTimestamp();
string mode = args.Length > 0 ? args[0] : "compare";
int reps = args.Length > 2 && args[1] == "--reps" ? int.Parse(args[2]) : 30;
switch (mode)
{
    case "compare":
        return Compare.Run(reps);
    case "breakdown":
        return Breakdown.Run(reps);
    case "breakdown-one":
        return Breakdown.RunOne(reps);
    case "pipe":
        // Only the pipe round-trips: quick to rerun while working on the connection hot path.
        return PipeRoundTrip.Run(reps);
    case "first-start":
        // One fresh program's first child (run by `compare`, one copy per repetition).
        return FirstStart.Once(args[1], t0);
    case "memory":
        // Only the idle-child memory, with a per-mapping comparison against bare dotnet (--maps).
        return MemoryBreakdown.Run(args.Contains("--reps") ? reps : 5, args.Contains("--maps"),
            args.SkipWhile(a => a != "--child-env").Skip(1).Select(a => a.Split('=', 2)).Where(kv => kv.Length == 2)
                .ToDictionary(kv => kv[0], kv => kv[1]));
    case "forkserver":
        // Only the forkserver figures: quick to rerun while working on the handoff path.
        return Compare.RunForkServer(reps);
    case "micro":
        BenchmarkDotNet.Running.BenchmarkSwitcher.FromAssembly(typeof(Compare).Assembly).Run(args[1..]);
        return 0;
    default:
        Console.Error.WriteLine("usage: Multiprocessing.Benchmarks compare [--reps N] | breakdown [--reps N] | pipe [--reps N] | forkserver [--reps N] | first-start spawn|forkserver | memory [--reps N] [--maps] [--child-env K=V ...] | micro [BenchmarkDotNet args]");
        return 2;
}
