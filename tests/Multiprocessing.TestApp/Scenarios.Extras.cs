using System.Diagnostics;
using System.Globalization;
using System.Runtime.InteropServices;
using Multiprocessing.Spawning;

namespace Multiprocessing.TestApp;

/// <summary>
/// Issue 3's extra checks that need a parent of their own: one the test can SIGKILL, and one
/// whose descriptors and children no parallel test disturbs. args[0] is the start method.
/// </summary>
public static partial class Scenarios
{
    /// <summary>
    /// args[1] = KillOnParentDeath ("true"/"false"), args[2] = a directory. The child writes
    /// "running" once its target runs, then waits for its parent's death and, if it outlives it,
    /// writes "orphaned" with its new ppid. Prints <c>pid=N</c>, then blocks until SIGKILLed.
    /// </summary>
    public static int ParentDeath(string[] args)
    {
        string dir = args[2];
        var p = Ctx(args).Process(() =>
        {
            File.WriteAllText(Path.Combine(dir, "running"), "running");
            Process.Parent!.Join();
            File.WriteAllText(Path.Combine(dir, "orphaned.tmp"), PPidOf(Environment.ProcessId).ToString(CultureInfo.InvariantCulture));
            File.Move(Path.Combine(dir, "orphaned.tmp"), Path.Combine(dir, "orphaned"));
            Thread.Sleep(Timeout.Infinite);
        });
        p.KillOnParentDeath = bool.Parse(args[1]);
        p.Start();
        Console.WriteLine($"pid={p.Pid}");
        Console.Out.Flush();
        Console.In.ReadToEnd();
        return 0;
    }

    /// <summary>
    /// args[1] = "concurrent" (start all N, then join all) or "sequential" (N start/join cycles
    /// spread over args[3] threads), args[2] = N. Prints this process's descriptor count and
    /// children before and after, the child-watch threads left beyond the idle spares', with the
    /// timing and how many children did not exit 0.
    /// </summary>
    public static int LeakCycles(string[] args)
    {
        LowerOwnPriority();
        ProcessContext ctx = Ctx(args);
        string mode = args[1];
        int n = int.Parse(args[2], CultureInfo.InvariantCulture);
        int threads = args.Length > 3 ? int.Parse(args[3], CultureInfo.InvariantCulture) : 1;

        Console.WriteLine($"LeakCycles {ctx.StartMethod} {mode} {n} on {threads} thread(s)"); // Console opens its stream now, not mid-count
        // The same work once on a small scale, and one measurement, first: the runtime opens its
        // lazy descriptors (socket engine, child reaping, a mapped file per assembly loaded) and
        // forkserver its spare on first use; those are not leaks.
        _ = Cycles(ctx, mode, Math.Min(n, 2 * threads), threads);
        _ = Settle(ctx, null);
        _ = DescriptorKinds();
        (int fdsBefore, int[] childrenBefore) = Settle(ctx, null);
        string kindsBefore = DescriptorKinds();

        var sw = Stopwatch.StartNew();
        int failures = Cycles(ctx, mode, n, threads);
        long ms = sw.ElapsedMilliseconds;

        (int fdsAfter, int[] childrenAfter) = Settle(ctx, fdsBefore, out int extraWatches);
        Console.WriteLine($"fds-before={fdsBefore}\nfds-after={fdsAfter}");
        Console.WriteLine($"watch-threads-left={extraWatches}");
        Console.WriteLine($"fd-kinds-before={kindsBefore}\nfd-kinds-after={DescriptorKinds()}");
        Console.WriteLine($"children-before=[{string.Join(',', childrenBefore)}]\nchildren-after=[{string.Join(',', childrenAfter)}]");
        Console.WriteLine($"failures={failures}\nelapsed-ms={ms}");
        return 0;
    }

    [DllImport("libc", EntryPoint = "setpriority")]
    private static extern int SetPriority(int which, int who, int prio);

    /// <summary>
    /// nice 19 for every thread (Linux's nice is per thread; new threads and children inherit it
    /// from their creator): a hundred child runtimes booting at once must not starve the tests
    /// that run beside this one and wait for their own children with a bound.
    /// </summary>
    private static void LowerOwnPriority()
    {
        const int PRIO_PROCESS = 0;
        for (int pass = 0; pass < 2; pass++) // a thread started during the first pass by a not-yet-lowered one
        {
            foreach (string task in Directory.GetDirectories("/proc/self/task"))
                SetPriority(PRIO_PROCESS, int.Parse(Path.GetFileName(task), CultureInfo.InvariantCulture), 19);
        }
    }

    /// <summary>Runs the cycles; returns how many children did not exit 0.</summary>
    private static int Cycles(ProcessContext ctx, string mode, int n, int threads)
    {
        int failures = 0;
        if (mode == "concurrent")
        {
            Process[] ps = [.. Enumerable.Range(0, n).Select(_ => ctx.Process(() => { }))];
            foreach (Process p in ps) p.Start();
            foreach (Process p in ps)
            {
                p.Join();
                if (p.ExitCode != 0) failures++;
            }
            return failures;
        }
        Thread[] workers = [.. Enumerable.Range(0, threads).Select(t => new Thread(() =>
        {
            for (int i = t; i < n; i += threads)
            {
                if (RunOnce(ctx.Process(() => { })) != 0) Interlocked.Increment(ref failures);
            }
        }))];
        foreach (Thread w in workers) w.Start();
        foreach (Thread w in workers) w.Join();
        return failures;
    }

    /// <summary>Start and join, as a CPython user writes it: no Close().</summary>
    private static int RunOnce(Process p)
    {
        p.Start();
        p.Join();
        return p.ExitCode!.Value;
    }

    /// <summary>
    /// Descriptor count (after a full GC) and children that are not idle forkserver spares,
    /// once every child has been joined. A spare being replenished in the background is
    /// briefly such a child and holds a channel, so this polls, bounded, until there is none
    /// (and the count is back near <paramref name="fdsBefore"/>); a real leak stays and is reported.
    /// </summary>
    private static (int Fds, int[] Children) Settle(ProcessContext ctx, int? fdsBefore) => Settle(ctx, fdsBefore, out _);

    /// <param name="extraWatches">Watch threads beyond one per idle spare: a running child's, or a leaked one.</param>
    private static (int Fds, int[] Children) Settle(ProcessContext ctx, int? fdsBefore, out int extraWatches)
    {
        var sw = Stopwatch.StartNew();
        while (true)
        {
            GC.Collect();
            GC.WaitForPendingFinalizers();
            GC.Collect();
            // Each idle forkserver spare holds its channel, one socket, and a burst of starts adds
            // spares (up to MaxSpares): those are the context's, not leaks. Counted between two
            // reads of the idle list, so a spare that arrives meanwhile is counted again next round.
            HashSet<int> idle = IdleSpares(ctx);
            int fds = Descriptors().Count(target => !IsAssemblyFile(target)) - idle.Count;
            extraWatches = WatchThreads() - idle.Count;
            bool steady = idle.SetEquals(IdleSpares(ctx));
            int[] children = [.. ChildPids().Where(pid => !idle.Contains(pid)).Order()];
            bool settled = steady && children.Length == 0 && extraWatches <= 0 && (fdsBefore is not { } b || Math.Abs(fds - b) <= 2);
            if (settled || sw.Elapsed > TimeSpan.FromSeconds(60)) return (fds, children);
            Thread.Sleep(50);
        }
    }

    /// <summary>The library's child-watch threads ("Multiprocessing child watch", which Linux shortens to 15 characters).</summary>
    private static int WatchThreads() =>
        Directory.GetDirectories("/proc/self/task").Count(task =>
        {
            try { return File.ReadAllText(Path.Combine(task, "comm")).TrimEnd('\n') == "Multiprocessing"; }
            catch (IOException) { return false; } // ended meanwhile
        });

    private static HashSet<int> IdleSpares(ProcessContext ctx) => ctx.Method is ForkServerStartMethod fs ? [.. fs.IdlePids] : [];

    /// <summary>What each open descriptor refers to ("socket:[123]", "pipe:[45]", a path).</summary>
    private static IEnumerable<string> Descriptors() =>
        Directory.GetFileSystemEntries("/proc/self/fd")
            .Select(fd => { try { return new FileInfo(fd).LinkTarget ?? "?"; } catch (IOException) { return "closed"; } });

    /// <summary>
    /// The runtime keeps each assembly it loads open, and loads some lazily at a moment of its
    /// choosing (System.Collections.NonGeneric, from a thread with no managed frames, mid-run):
    /// a one-time cost per assembly, not a descriptor the library holds.
    /// </summary>
    private static bool IsAssemblyFile(string target) => target.EndsWith(".dll", StringComparison.Ordinal);

    /// <summary>The open descriptors by kind ("socket:×3, pipe:×2, …"): says what leaked if anything did.</summary>
    private static string DescriptorKinds() =>
        string.Join(", ", Descriptors()
            .Where(t => !IsAssemblyFile(t))
            .Select(t => t.Contains(":[", StringComparison.Ordinal) ? t[..t.IndexOf('[', StringComparison.Ordinal)] : t)
            .GroupBy(k => k).OrderBy(g => g.Key, StringComparer.Ordinal).Select(g => $"{g.Key}×{g.Count()}"));

    private static IEnumerable<int> ChildPids()
    {
        int me = Environment.ProcessId;
        foreach (string dir in Directory.EnumerateDirectories("/proc"))
        {
            if (!int.TryParse(Path.GetFileName(dir), NumberStyles.None, CultureInfo.InvariantCulture, out int pid)) continue;
            int ppid;
            try { ppid = PPidOf(pid); }
            catch (IOException) { continue; } // it ended while we looked
            catch (UnauthorizedAccessException) { continue; }
            if (ppid == me) yield return pid;
        }
    }

    /// <summary>Field 4 of /proc/PID/stat; the command name before it may hold spaces and ')'.</summary>
    private static int PPidOf(int pid)
    {
        string stat = File.ReadAllText($"/proc/{pid}/stat");
        return int.Parse(stat[(stat.LastIndexOf(')') + 2)..].Split(' ')[1], CultureInfo.InvariantCulture);
    }
}
