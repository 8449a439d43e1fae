using System.Diagnostics;
using System.Runtime.Serialization;
using Multiprocessing.Serialization;
using Xunit;

namespace Multiprocessing.Tests.Processes;

/// <summary>
/// cpython-behavior.md §8 items 46–82, one test per item. Children report what they saw through
/// files (no Connection is needed), and behaviors that need a real parent's stdio or exit run as
/// TestApp scenarios (Scenarios.Checklist2.cs) given this suite's start method.
/// </summary>
public abstract partial class ProcessSuite
{
    /// <summary>A fresh path for a child to write to; the directory is removed with the test process's temp.</summary>
    private static string TempPath(string tag) =>
        Path.Combine(Path.GetTempPath(), $"mp-{tag}-{Environment.ProcessId}-{Guid.NewGuid():N}.txt");

    /// <summary>Waits for a child to have written <paramref name="path"/> (a condition, bounded; not a fixed sleep).</summary>
    private static string WaitForFile(string path, Func<string, bool>? done = null)
    {
        var sw = Stopwatch.StartNew();
        while (sw.Elapsed < Long)
        {
            if (File.Exists(path))
            {
                string text;
                try { text = File.ReadAllText(path); } catch (IOException) { text = ""; }
                if (done is null ? text.Length > 0 : done(text)) return text;
            }
            Thread.Sleep(20);
        }
        throw new TimeoutException($"{path} was not written within {Long}");
    }

    private static void KillPid(int pid)
    {
        try { using var p = System.Diagnostics.Process.GetProcessById(pid); p.Kill(); p.WaitForExit(10_000); }
        catch (ArgumentException) { } // already gone
        catch (InvalidOperationException) { }
    }

    private static bool PidAlive(int pid)
    {
        // A zombie still has /proc/pid; its state letter is Z.
        string stat = $"/proc/{pid}/stat";
        try { return File.Exists(stat) && !File.ReadAllText(stat).Split(')')[1].TrimStart().StartsWith('Z'); }
        catch (IOException) { return false; }
    }

    private static int PPid(int pid) =>
        int.Parse(File.ReadAllText($"/proc/{pid}/stat").Split(')')[1].Split(' ', StringSplitOptions.RemoveEmptyEntries)[1],
                  System.Globalization.CultureInfo.InvariantCulture);

    [Fact]
    public void Item046_AuthenticationKey_refuses_serialization_outside_process_start()
    {
        AuthenticationKey key = new byte[] { 1, 2, 3 };
        var e = Assert.Throws<SerializationException>(() => ProcessSerialization.Serializer.Serialize(key, SerializationPurpose.Message));
        Assert.Equal("Pickling an AuthenticationString object is disallowed for security reasons", e.Message);
        // ...while a process start carries it (item 45's inheritance relies on this).
        Assert.Equal(0, RunToEnd(Make(() => { if (Process.Current.AuthKey.Length != 32) Environment.Exit(3); })));
    }

    [Fact]
    public void Item047_Child_sees_parent_pid_name_and_repr()
    {
        string path = TempPath("i47");
        Process p = Make(() =>
        {
            ParentProcess? parent = Process.Parent;
            File.WriteAllText(path, parent is null ? "null" : $"{parent.Pid}\n{parent.Name}\n{parent}");
        });
        Assert.Equal(0, RunToEnd(p));
        string[] lines = File.ReadAllText(path).Split('\n');
        Assert.Equal(Environment.ProcessId.ToString(System.Globalization.CultureInfo.InvariantCulture), lines[0]);
        Assert.Equal("MainProcess", lines[1]);
        Assert.Equal("<_ParentProcess name='MainProcess' parent=None unknown>", lines[2]);
        File.Delete(path);
    }

    [Fact]
    public void Item048_Child_current_process_is_alive_with_no_exitcode_and_no_children()
    {
        string path = TempPath("i48");
        Process p = Make(() =>
        {
            Process me = Process.Current;
            File.WriteAllText(path, $"{me.IsAlive}|{me.ExitCode?.ToString() ?? "None"}|{me.Pid == Environment.ProcessId}|{Process.ActiveChildren().Count}");
        });
        Assert.Equal(0, RunToEnd(p));
        Assert.Equal("True|None|True|0", File.ReadAllText(path));
        File.Delete(path);
    }

    [Fact]
    public void Item049_Grandchild_sees_parent_alive_then_its_death()
    {
        string path = TempPath("i49");
        Process p = Make(() =>
        {
            var g = new Process(() =>
            {
                ParentProcess parent = Process.Parent!;
                File.AppendAllText(path, $"grandchild {Environment.ProcessId} alive={parent.IsAlive}\n");
                var sw = Stopwatch.StartNew();
                bool ended = parent.Join(TimeSpan.FromSeconds(90));
                File.AppendAllText(path, $"joined={ended} early={sw.Elapsed < TimeSpan.FromSeconds(80)} alive={parent.IsAlive}\n");
            });
            g.Start();
            Thread.Sleep(TimeSpan.FromSeconds(120)); // the work the test interrupts by terminating us
        });
        p.Start();
        int grandchild = 0;
        try
        {
            string first = WaitForFile(path, t => t.Contains("alive=", StringComparison.Ordinal));
            grandchild = int.Parse(first.Split(' ')[1], System.Globalization.CultureInfo.InvariantCulture);
            Assert.Contains("alive=True", first);
            p.Terminate();
            Assert.True(p.Join(Long));
            string all = WaitForFile(path, t => t.Contains("joined=", StringComparison.Ordinal));
            Assert.Contains("joined=True early=True alive=False", all);
        }
        finally
        {
            if (grandchild != 0) KillPid(grandchild);
            File.Delete(path);
        }
    }

    [Fact]
    public void Item050_Child_main_thread_native_id_differs_from_parent()
    {
        // /proc/thread-self → "<pid>/task/<tid>": the native id of the calling thread.
        static string Tid() => new DirectoryInfo("/proc/thread-self").LinkTarget!.Split('/')[^1];
        string path = TempPath("i50");
        Assert.Equal(0, RunToEnd(Make(() => File.WriteAllText(path, Tid()))));
        Assert.NotEqual(Tid(), File.ReadAllText(path));
        File.Delete(path);
    }

    // Items 51–55: Python's sys.exit(value) has one .NET analogue, Environment.Exit(int);
    // returning from the target is sys.exit(None).
    [Fact]
    public void Item051_Child_normal_return_and_Exit0_give_exitcode_0()
    {
        Assert.Equal(0, RunToEnd(Make(() => { })));
        Assert.Equal(0, RunToEnd(Make(() => Environment.Exit(0))));
    }

    [Fact]
    public void Item052_Child_Exit8_gives_8_Exit1_gives_1()
    {
        Assert.Equal(8, RunToEnd(Make(() => Environment.Exit(8))));
        Assert.Equal(1, RunToEnd(Make(() => Environment.Exit(1))));
    }

    [Fact]
    public void Item053_Child_message_then_Exit1_gives_1()
    {
        // sys.exit('ignore this') = print the text to stderr, exit 1. .NET has no exit with a
        // string; the analogue is writing it and Environment.Exit(1). The stderr text is checked
        // through a real parent in Item053 of the TestApp.
        TestApp.Result r = TestApp.Run("Item053", Ctx.StartMethod);
        Assert.Equal(0, r.ExitCode);
        Assert.Contains("exit=1", r.Stdout);
        Assert.Equal("ignore this\n", r.Stderr);
    }

    [Fact]
    public void Item054_Child_exit_with_a_non_int_value_analogue_gives_1()
    {
        // sys.exit([1, 2, 3]) / SystemExit(1, 2): no .NET analogue (exit codes are ints). The
        // nearest is an exception type whose only role is to end the process: it is an
        // unhandled exception, so 1.
        Process p = Make(() => throw new OperationCanceledException("[1, 2, 3]"));
        Assert.Equal(1, RunToEnd(p));
        Assert.Equal("[1, 2, 3]", p.Exception?.Message);
    }

    [Fact]
    public void Item055_Child_exit_codes_are_truncated_to_8_bits()
    {
        Assert.Equal(0, RunToEnd(Make(() => Environment.Exit(256))));
        Assert.Equal(255, RunToEnd(Make(() => Environment.Exit(-1))));
        Assert.Equal(44, RunToEnd(Make(() => Environment.Exit(300))));
    }

    [Fact]
    public void Item056_Unhandled_exception_gives_1_and_Process_name_header()
    {
        Process p = Make(() => throw new DivideByZeroException("division by zero"), name: "Boom");
        Assert.Equal(1, RunToEnd(p));
        Assert.Equal("System.DivideByZeroException", p.Exception?.RemoteTypeName);
        Assert.Equal("division by zero", p.Exception?.Message);

        TestApp.Result r = TestApp.Run("Item056", Ctx.StartMethod);
        Assert.Equal(0, r.ExitCode);
        Assert.Contains("exit=1", r.Stdout);
        Assert.StartsWith("Process Boom:\nSystem.DivideByZeroException: division by zero", r.Stderr);
    }

    [Fact]
    public void Item057_SIGINT_to_itself_gives_1_with_Process_name_header()
    {
        TestApp.Result r = TestApp.Run("Item057", Ctx.StartMethod);
        Assert.Equal(0, r.ExitCode);
        Assert.Contains("exit=1", r.Stdout);
        Assert.StartsWith("Process Interrupted:\n", r.Stderr);
        Assert.Contains("KeyboardInterrupt", r.Stderr);
    }

    [Fact]
    public void Item058_Interrupt_sends_SIGINT_and_the_child_exits_1()
    {
        string path = TempPath("i58");
        Process p = Make(() => { File.WriteAllText(path, "running"); Thread.Sleep(TimeSpan.FromSeconds(120)); });
        p.Start();
        try
        {
            WaitForFile(path); // the target runs, so the child's SIGINT handling is in place
            p.Interrupt();
            Assert.True(p.Join(Long));
            Assert.Equal(1, p.ExitCode);
        }
        finally { File.Delete(path); }
    }

    [Fact]
    public void Item059_Child_Console_In_is_at_EOF_even_with_parent_stdin_open()
    {
        using System.Diagnostics.Process app = TestApp.Start("Item059", Ctx.StartMethod);
        try
        {
            // Data waits on the parent's stdin and stays open: a child reading the real stdin
            // would get it (or block); Console.In must read EOF at once.
            app.StandardInput.WriteLine("parent data");
            app.StandardInput.Flush();
            Task<string> stdout = app.StandardOutput.ReadToEndAsync();
            Task<string> stderr = app.StandardError.ReadToEndAsync();
            Assert.True(app.WaitForExit(TimeSpan.FromSeconds(120)), "TestApp Item059 did not end");
            app.WaitForExit();
            Assert.Equal(0, app.ExitCode);
            Assert.Contains("read=[] exit=0", stdout.Result);
            Assert.Equal("", stderr.Result);
        }
        finally
        {
            if (!app.HasExited) { app.Kill(entireProcessTree: true); app.WaitForExit(); }
        }
    }

    [Fact]
    public void Item060_Child_output_without_newline_reaches_parent_streams()
    {
        TestApp.Result r = TestApp.Run("Item060", Ctx.StartMethod);
        Assert.Equal(0, r.ExitCode);
        Assert.Contains("out-no-newline", r.Stdout);
        Assert.Contains("err-no-newline", r.Stderr);
    }

    [Fact]
    public void Item061_Child_exits_0_with_stdout_and_stderr_closed()
    {
        Assert.Equal(0, RunToEnd(Make(() => { Console.Out.Dispose(); Console.Error.Dispose(); Console.Write("x"); })));
        Assert.Equal(0, RunToEnd(Make(() => { Console.SetOut(TextWriter.Null); Console.SetError(TextWriter.Null); })));
    }

    /// <summary>
    /// CPython flushes sys.stdout at a child's exit. A .NET target that swaps in a buffered
    /// writer gets the same: the child host flushes the writers that exist before its exit frame.
    /// </summary>
    [Fact]
    public void Child_console_writer_with_buffered_output_is_flushed_at_exit()
    {
        string file = TempPath("flush");
        try
        {
            Assert.Equal(0, RunToEnd(Make(() =>
            {
                var buffered = new StreamWriter(new FileStream(file, FileMode.Create), bufferSize: 1 << 16) { AutoFlush = false };
                Console.SetOut(buffered);
                Console.Write("written, never flushed by the target");
            })));
            Assert.Equal("written, never flushed by the target", File.ReadAllText(file));
        }
        finally
        {
            File.Delete(file);
        }
    }

    [Fact]
    public void Item062_Child_waits_for_foreground_threads_not_background_ones()
    {
        string fg = TempPath("i62fg"), bg = TempPath("i62bg");
        Process p = Make(() =>
        {
            new Thread(() => { Thread.Sleep(1000); File.WriteAllText(fg, "done"); }) { IsBackground = false }.Start();
            new Thread(() => { Thread.Sleep(30_000); File.WriteAllText(bg, "done"); }) { IsBackground = true }.Start();
        });
        var sw = Stopwatch.StartNew();
        Assert.Equal(0, RunToEnd(p));
        Assert.True(sw.Elapsed >= TimeSpan.FromSeconds(0.9), $"join took {sw.Elapsed}");
        Assert.True(sw.Elapsed < TimeSpan.FromSeconds(25), $"join took {sw.Elapsed}: the background thread was waited for");
        Assert.True(File.Exists(fg));
        Assert.False(File.Exists(bg));
        File.Delete(fg);
    }

    [Fact]
    public void Item063_ProcessExit_handlers_registered_in_the_child_run_at_child_exit()
    {
        // atexit.register → AppDomain.ProcessExit.
        string path = TempPath("i63");
        Assert.Equal(0, RunToEnd(Make(() => AppDomain.CurrentDomain.ProcessExit += (_, _) => File.WriteAllText(path, "ran"))));
        Assert.Equal("ran", File.ReadAllText(path));
        File.Delete(path);
    }

    [Fact]
    public void Item064_Exit_handlers_run_on_Environment_Exit_and_none_come_from_the_parent()
    {
        // util.Finalize(exitpriority>=0) has no public analogue in this API: ProcessExit is it
        // (item 63). Its "registry cleared at child start" holds by construction: a spawned child
        // is a fresh runtime that never ran the parent's registrations. Checked here: the handler
        // also runs when the target ends the process with Environment.Exit.
        string path = TempPath("i64");
        Assert.Equal(5, RunToEnd(Make(() =>
        {
            AppDomain.CurrentDomain.ProcessExit += (_, _) => File.WriteAllText(path, "ran");
            Environment.Exit(5);
        })));
        Assert.Equal("ran", File.ReadAllText(path));
        File.Delete(path);
    }

    private static int s_parentOnlyState;

    [Fact]
    public void Item065_No_after_fork_hooks_needed_a_child_starts_from_fresh_static_state()
    {
        // register_after_fork exists to repair state a fork copied; a spawned .NET child copies
        // nothing (static state starts fresh, static constructors run anew), so there is no hook.
        Interlocked.Exchange(ref s_parentOnlyState, 42);
        Assert.Equal(0, RunToEnd(Make(() => Environment.Exit(s_parentOnlyState == 0 ? 0 : 7))));
    }

    [Fact]
    public void Item066_Daemon_child_cannot_start_children()
    {
        Process p = Make(() => new Process(() => { }).Start(), daemon: true);
        Assert.Equal(1, RunToEnd(p));
        Assert.Equal("System.InvalidOperationException", p.Exception?.RemoteTypeName);
        Assert.Equal("daemonic processes are not allowed to have children", p.Exception?.Message);
    }

    private static int[] Pids(string text, string key) =>
        [.. text.Split('\n').Where(l => l.StartsWith(key + "=", StringComparison.Ordinal))
            .Select(l => int.Parse(l[(key.Length + 1)..], System.Globalization.CultureInfo.InvariantCulture))];

    private static TestApp.Result RunAndReap(string scenario, params string[] args)
    {
        TestApp.Result r = TestApp.Run(scenario, args);
        foreach (int pid in Pids(r.Stdout, "pid")) KillPid(pid);
        return r;
    }

    [Fact]
    public void Item067_Parent_exit_terminates_daemons_and_joins_non_daemons()
    {
        string dir = Path.Combine(Path.GetTempPath(), "mp-i67-" + Guid.NewGuid().ToString("N"));
        Directory.CreateDirectory(dir);
        try
        {
            TestApp.Result r = RunAndReap("Item067", Ctx.StartMethod, dir);
            Assert.Equal(0, r.ExitCode);
            Assert.Contains("daemon-exit=-15", r.Stdout);
            Assert.Contains("worker-exit=0", r.Stdout);
            Assert.True(File.Exists(Path.Combine(dir, "worker")), "the non-daemon child's work was cut short");
            Assert.False(File.Exists(Path.Combine(dir, "daemon")), "the daemon child was not terminated");
        }
        finally { Directory.Delete(dir, true); }
    }

    [Fact]
    public void Item068_Parent_exit_waits_for_a_non_daemon_child_with_work_left()
    {
        TestApp.Result r = RunAndReap("Item068", Ctx.StartMethod);
        Assert.Equal(0, r.ExitCode);
        Assert.Contains("worker-exit=0", r.Stdout);
        // Printed by a ProcessExit handler that runs after the library's exit function.
        int waited = Pids(r.Stdout, "waited-ms").Single();
        Assert.True(waited >= 1000, $"the parent waited only {waited} ms for a child with 1.5 s of work");
    }

    [Fact]
    public void Item069_Parent_exit_waits_for_a_daemon_that_ignores_SIGTERM()
    {
        string dir = Path.Combine(Path.GetTempPath(), "mp-i69-" + Guid.NewGuid().ToString("N"));
        Directory.CreateDirectory(dir);
        try
        {
            TestApp.Result r = RunAndReap("Item069", Ctx.StartMethod, dir);
            Assert.Equal(0, r.ExitCode);
            Assert.Contains("daemon-exit=0", r.Stdout); // no SIGKILL escalation: it finished its work
            Assert.True(File.Exists(Path.Combine(dir, "daemon")));
        }
        finally { Directory.Delete(dir, true); }
    }

    [Fact]
    public void Item070_Child_exit_terminates_its_daemon_grandchildren_and_joins_the_others()
    {
        string path = TempPath("i70"), worker = TempPath("i70w");
        Process p = Make(() =>
        {
            var d = new Process(() => Thread.Sleep(TimeSpan.FromSeconds(120)), daemon: true);
            var w = new Process(() => { Thread.Sleep(1000); File.WriteAllText(worker, "done"); });
            d.Start();
            w.Start();
            File.WriteAllText(path, $"pid={d.Pid}\npid={w.Pid}\n");
        });
        try
        {
            Assert.Equal(0, RunToEnd(p));
            Assert.True(File.Exists(worker), "the non-daemon grandchild was not joined");
            foreach (int pid in Pids(File.ReadAllText(path), "pid"))
                Assert.False(PidAlive(pid), $"grandchild {pid} outlived its parent's normal exit");
        }
        finally
        {
            if (File.Exists(path)) foreach (int pid in Pids(File.ReadAllText(path), "pid")) KillPid(pid);
            File.Delete(path);
            File.Delete(worker);
        }
    }

    [Fact]
    public void Item071_Parent_SIGKILLed_children_keep_running_reparented()
    {
        using System.Diagnostics.Process app = TestApp.Start("Item071", Ctx.StartMethod);
        var children = new List<int>();
        try
        {
            // The scenario prints its two children's pids, then "ready", then blocks on stdin.
            for (string? line; (line = app.StandardOutput.ReadLine()) is not null && line != "ready";)
                children.AddRange(Pids(line, "pid"));
            Assert.Equal(2, children.Count);
            app.Kill(); // SIGKILL: no exit function runs
            Assert.True(app.WaitForExit(TimeSpan.FromSeconds(60)));
            foreach (int pid in children)
            {
                Assert.True(PidAlive(pid), $"child {pid} died with its SIGKILLed parent");
                Assert.NotEqual(app.Id, PPid(pid)); // reparented to init or a subreaper
            }
        }
        finally
        {
            if (!app.HasExited) { app.Kill(entireProcessTree: true); app.WaitForExit(); }
            foreach (int pid in children) KillPid(pid);
        }
    }

    /// <summary>Item 72's node: record the path, then run each child to its end in turn.</summary>
    private static void TreeNode(string file, int[] path, int depth)
    {
        File.AppendAllText(file, "[" + string.Join(",", path) + "]\n");
        if (depth == 0) return;
        for (int i = 0; i < 2; i++)
        {
            var p = new Process((Action<string, int[], int>)TreeNode, [file, (int[])[.. path, i], depth - 1]);
            p.Start();
            p.Join();
            if (p.ExitCode != 0) Environment.Exit(9);
        }
    }

    [Fact]
    public void Item072_Recursion_tree_2x2_in_order()
    {
        string file = TempPath("i72");
        Process p = Make((Action<string, int[], int>)TreeNode, [file, Array.Empty<int>(), 2]);
        Assert.Equal(0, RunToEnd(p));
        Assert.Equal("[]\n[0]\n[0,0]\n[0,1]\n[1]\n[1,0]\n[1,1]\n", File.ReadAllText(file));
        File.Delete(file);
    }

    [Fact]
    public void Item073_Many_short_processes_and_many_terminated_ones()
    {
        // CPython runs 5 under spawn (each start boots a runtime): so do we.
        Process[] ok = [.. Enumerable.Range(0, 5).Select(_ => Make(() => { }))];
        foreach (Process p in ok) p.Start();
        foreach (Process p in ok) Assert.True(p.Join(Long));
        Assert.All(ok, p => Assert.Equal(0, p.ExitCode));

        Process[] killed = [.. Enumerable.Range(0, 5).Select(_ => Make(() => Thread.Sleep(TimeSpan.FromSeconds(120))))];
        foreach (Process p in killed) p.Start();
        foreach (Process p in killed) p.Terminate();
        foreach (Process p in killed) Assert.True(p.Join(Long));
        Assert.All(killed, p => Assert.Equal(-15, p.ExitCode));
    }

    [Fact]
    public void Item074_Child_descriptor_count_does_not_grow_with_siblings()
    {
        // Sockets, pipes and the like: what a sibling could leak (its channel is a socket, its
        // stdio pipes). Not files: the runtime holds two descriptors per assembly it has loaded,
        // and a warm forkserver spare has preloaded more assemblies than a host booted for one start.
        static int Count() => Directory.GetFileSystemEntries("/proc/self/fd")
            .Count(fd => new FileInfo(fd).LinkTarget is { } target && !target.StartsWith('/'));
        // Alone and as siblings the child runs the same code, so the runtime opens the same
        // descriptors of its own (it opens some lazily, e.g. for timers or async I/O).
        // The gate is a directory where each child leaves its own file: appends to one shared file
        // from three processes could lose one (.NET's append mode seeks, it does not O_APPEND).
        // Each child first uses a socket pair: a forkserver host booted after the parent's starts
        // began passing connections has warmed the socket engine (epoll and its wake-up pipe), one
        // booted before has not, and a burst can mix the two; this way every host has them open.
        static Action Counter(string path, string gate, int siblings) => () =>
        {
            (Connection a, Connection b) = Connection.Pipe();
            using (a)
            using (b)
            {
                a.Send(0);
                _ = b.Recv();
            }
            File.WriteAllText(Path.Combine(gate, Environment.ProcessId.ToString(System.Globalization.CultureInfo.InvariantCulture)), "");
            var sw = Stopwatch.StartNew();
            while (Directory.GetFiles(gate).Length < siblings && sw.Elapsed < TimeSpan.FromSeconds(60)) Thread.Sleep(20);
            File.WriteAllText(path, Count().ToString(System.Globalization.CultureInfo.InvariantCulture));
        };
        string alone = TempPath("i74"), aloneGate = Directory.CreateDirectory(TempPath("i74gate1")).FullName;
        Assert.Equal(0, RunToEnd(Make(Counter(alone, aloneGate, 1))));
        int baseline = int.Parse(File.ReadAllText(alone), System.Globalization.CultureInfo.InvariantCulture);

        string[] paths = [.. Enumerable.Range(0, 3).Select(i => TempPath("i74-" + i))];
        string gate = Directory.CreateDirectory(TempPath("i74gate")).FullName;
        // Each sibling counts only once all three run, so each could have inherited the others' channels.
        Process[] sibs = [.. paths.Select(path => Make(Counter(path, gate, 3)))];
        foreach (Process p in sibs) p.Start();
        foreach (Process p in sibs) Assert.True(p.Join(Long));
        foreach (string path in paths)
            Assert.Equal(baseline, int.Parse(File.ReadAllText(path), System.Globalization.CultureInfo.InvariantCulture));
        foreach (string path in paths.Append(alone)) File.Delete(path);
        Directory.Delete(gate, recursive: true);
        Directory.Delete(aloneGate, recursive: true);
    }

    [Fact]
    public void Item075_Parent_descriptor_not_passed_is_not_usable_in_the_child()
    {
        string file = TempPath("i75"), report = TempPath("i75r");
        using var fs = new FileStream(file, FileMode.Create);
        int fd = (int)fs.SafeFileHandle.DangerousGetHandle();
        // Made inheritable on purpose: the worst case, that the child must still not see.
        Multiprocessing.Interop.Libc.SetCloseOnExec(fd, false);
        try
        {
            Assert.Equal(0, RunToEnd(Make(() =>
            {
                string target = "";
                try { target = new FileInfo($"/proc/self/fd/{fd}").LinkTarget ?? ""; } catch (IOException) { }
                File.WriteAllText(report, target);
            })));
            Assert.NotEqual(file, File.ReadAllText(report));
        }
        finally
        {
            Multiprocessing.Interop.Libc.SetCloseOnExec(fd, true);
            File.Delete(report);
        }
    }

    [Fact]
    public void Item076_Unserializable_target_fails_in_the_parent_at_Start()
    {
        var thread = new Thread(() => { });
        Process p = Make(() => GC.KeepAlive(thread));
        var e = Assert.Throws<SerializationException>(p.Start);
        Assert.Contains("Thread", e.Message);
        Assert.Null(p.Pid); // no child was started
    }

    [Fact]
    public void Item077_No_fork_bomb_and_the_bootstrapping_error()
    {
        string marker = TempPath("i77");
        // Main starts a child unguarded; the child never runs Main, so Main ran exactly once.
        TestApp.Result r = TestApp.Run("Item077", Ctx.StartMethod, marker);
        Assert.Equal(0, r.ExitCode);
        Assert.Contains("exit=0", r.Stdout);
        Assert.Equal("main\n", File.ReadAllText(marker));
        File.Delete(marker);

        // A process launched as a child whose bootstrap never ran (a FreezeSupport app that
        // forgot the call runs Main instead) must refuse to start children: CPython's RuntimeError.
        var psi = new ProcessStartInfo("dotnet") { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        psi.ArgumentList.Add(TestApp.DllPath);
        psi.ArgumentList.Add("Item077");
        psi.ArgumentList.Add(Ctx.StartMethod);
        psi.ArgumentList.Add(marker);
        psi.Environment["MULTIPROCESSING_CHANNEL_FD"] = "1000";
        using var app = System.Diagnostics.Process.Start(psi)!;
        try
        {
            Task<string> stdout = app.StandardOutput.ReadToEndAsync();
            Task<string> stderr = app.StandardError.ReadToEndAsync();
            Assert.True(app.WaitForExit(TimeSpan.FromSeconds(120)));
            app.WaitForExit();
            Assert.Equal(1, app.ExitCode);
            Assert.Contains("An attempt has been made to start a new process before the current process has finished its bootstrapping phase.", stdout.Result + stderr.Result);
        }
        finally
        {
            if (!app.HasExited) { app.Kill(entireProcessTree: true); app.WaitForExit(); }
            File.Delete(marker);
        }
    }

    [Fact]
    public void Item078_SetStartMethod_twice_needs_force()
    {
        // Global state: run in a fresh parent rather than in this shared test host.
        TestApp.Result r = TestApp.Run("Item078", Ctx.StartMethod);
        Assert.Equal(0, r.ExitCode);
        Assert.Contains("second=context has already been set", r.Stdout);
        Assert.Contains($"forced={Ctx.StartMethod}", r.Stdout);
        Assert.Contains("exit=0", r.Stdout);
    }

    [Fact]
    public void Item079_Unknown_context_and_concrete_context_SetStartMethod()
    {
        var e = Assert.Throws<ArgumentException>(() => Context.Get("bogus"));
        Assert.Equal("cannot find context for 'bogus'", e.Message);
        var c = Assert.Throws<ArgumentException>(() => Ctx.SetStartMethod("spawn"));
        Assert.Equal("cannot set start method of concrete context", c.Message);
    }

    [Fact]
    public void Item080_Child_and_grandchild_report_the_start_method_that_launched_them()
    {
        string path = TempPath("i80");
        Process p = Make(() =>
        {
            // CPython _force_start_method: the child's context counts as set.
            try { Context.SetStartMethod("spawn"); File.AppendAllText(path, "set=allowed\n"); }
            catch (InvalidOperationException e) { File.AppendAllText(path, $"set={e.Message}\n"); }
            File.AppendAllText(path, $"child={Context.GetStartMethod()}\n");
            var g = new Process(() => File.AppendAllText(path, $"grandchild={Context.GetStartMethod()}\n"));
            g.Start();
            g.Join();
        });
        Assert.Equal(0, RunToEnd(p));
        Assert.Equal($"set=context has already been set\nchild={Ctx.StartMethod}\ngrandchild={Ctx.StartMethod}\n", File.ReadAllText(path));
        File.Delete(path);
    }

    [Fact]
    public void Item081_Cpu_count_is_Environment_ProcessorCount()
    {
        // cpu_count() has no Multiprocessing API: .NET's Environment.ProcessorCount is the
        // answer, and it is the same in a child.
        Assert.True(Environment.ProcessorCount >= 1);
        int n = Environment.ProcessorCount;
        Assert.Equal(0, RunToEnd(Make(() => Environment.Exit(Environment.ProcessorCount == n ? 0 : 1))));
    }

    [Fact]
    public void Item082_No_SetExecutable_the_host_is_chosen_from_the_app()
    {
        // set_executable is not in the API: the child's host is derived from how this process
        // was hosted (Spawning/ChildLaunch). Here (dotnet test): the muxer runs the library's
        // child host with this app's runtimeconfig and deps file, and the child runs.
        Assert.Null(typeof(Context).GetMethod("SetExecutable"));
        Multiprocessing.Spawning.LaunchCommand cmd = Multiprocessing.Spawning.ChildLaunch.Resolve(Multiprocessing.Spawning.HostInfo.Current(false), 3, [], File.Exists);
        Assert.Equal(Multiprocessing.Spawning.LaunchKind.DotnetExec, cmd.Kind);
        Assert.Equal(0, RunToEnd(Make(() => { })));
    }
}
