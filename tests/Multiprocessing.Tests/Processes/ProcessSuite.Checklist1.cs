using System.Diagnostics;
using System.Runtime.CompilerServices;
using Xunit;

namespace Multiprocessing.Tests.Processes;

/// <summary>
/// cpython-behavior.md §8 items 7–45 that start processes or depend on the start method, one
/// test per item (the main-process ones are in <see cref="MainProcessTests"/>). A child reports
/// what it saw through its exit code: 0 = as expected, 3 = a check failed, 1 = it threw (the
/// exception is then on stderr).
/// </summary>
public abstract partial class ProcessSuite
{
    private static int Pid => Environment.ProcessId;

    /// <summary>The child's verdict: exit 0 when every check held, 3 otherwise.</summary>
    private static void ExitWith(bool ok) => Environment.Exit(ok ? 0 : 3);

    /// <summary>The message of the InvalidOperationException <paramref name="action"/> throws.</summary>
    private static string Refusal(Action action)
    {
        try { action(); }
        catch (InvalidOperationException e) { return e.Message; }
        return "<no exception>";
    }

    private static string Refusal(Func<object?> read) => Refusal(() => { _ = read(); });

    /// <summary>A child that runs until it is killed.</summary>
    private Process Sleeper(string? name = null, bool? daemon = null) =>
        Make(() => Thread.Sleep(Timeout.Infinite), name, daemon);

    private static int Number(string name) => int.Parse(name[(name.LastIndexOf('-') + 1)..], System.Globalization.CultureInfo.InvariantCulture);

    private sealed class Checklist1Proc : Process
    {
        public Checklist1Proc() : base(name: null, daemon: null) { }

        public override void Run() { }
    }

    [Fact]
    public void Item007_Default_names_are_numbered_consecutively()
    {
        // The exact "Process-1" needs a fresh main: MainProcessTests.Item007_… runs it in the TestApp.
        // Here the counter is shared with tests running in parallel, so only the order is certain.
        Process a = Make(() => { });
        Process b = Make(() => { });
        Assert.Matches($"^{ClassName}-\\d+$", a.Name);
        Assert.Matches($"^{ClassName}-\\d+$", b.Name);
        Assert.True(Number(b.Name) > Number(a.Name), $"{a.Name} then {b.Name}");
    }

    [Fact]
    public void Item008_Subclass_names_share_the_counter()
    {
        Process a = Make(() => { });
        Process sub = Track(new Checklist1Proc());
        Process c = Make(() => { });
        Assert.Matches(@"^Checklist1Proc-\d+$", sub.Name);
        Assert.True(Number(a.Name) < Number(sub.Name) && Number(sub.Name) < Number(c.Name), $"{a.Name}, {sub.Name}, {c.Name}");
    }

    [Fact]
    public void Item009_Empty_name_gives_the_default_name()
    {
        Process p = Make(() => { }, name: "");
        Assert.Matches($"^{ClassName}-\\d+$", p.Name);
        Process q = Make((Delegate?)null, name: "");
        Assert.Matches($"^{ClassName}-\\d+$", q.Name);
    }

    [Fact]
    public void Item010_Context_class_name_prefixes_default_names()
    {
        Assert.StartsWith(ClassName + "-", Make(() => { }).Name);
        Assert.StartsWith("SpawnProcess-", Track(Context.Get("spawn").Process(() => { })).Name);
        // fork ("ForkProcess-"): a .NET runtime cannot be forked, so there is no fork context to test.
    }

    [Fact]
    public void Item011_First_process_made_in_a_child_is_named_parent_colon_1()
    {
        // The child's counter restarts at 1 and its identity is the parent's plus its own number.
        // The exact "Process-1:1" from a fresh main is in MainProcessTests.Item007_…
        string method = Ctx.StartMethod;
        string[] expected = [""];
        Process p = Make(() =>
        {
            Process grandchild = Context.Get(method).Process(() => { });
            Process second = Context.Get(method).Process(() => { });
            ExitWith(Process.Current.Name == expected[0] && grandchild.Name == expected[0] + ":1" && second.Name == expected[0] + ":2");
        });
        expected[0] = p.Name; // the captured array travels at Start(), with this value in it
        Assert.Equal(0, RunToEnd(p));
    }

    [Fact]
    public void Item012_Explicit_name_is_seen_by_the_child()
    {
        Process p = Make(() => ExitWith(Process.Current.Name == "SomeProcess"), name: "SomeProcess");
        Assert.Equal("SomeProcess", p.Name);
        Assert.Equal(0, RunToEnd(p));
    }

    // Item 13 (`Process(group=1)` → AssertionError): Python-only; there is no group parameter.

    [Fact]
    public void Item014_Daemon_defaults_to_the_creators_flag_and_the_argument_is_honored()
    {
        Assert.False(Make(() => { }).Daemon);
        Assert.True(Make(() => { }, daemon: true).Daemon);
        Assert.False(Make(() => { }, daemon: false).Daemon);

        // Inside a daemonic child, the default for a new Process object is the creator's True.
        string method = Ctx.StartMethod;
        Process p = Make(() =>
        {
            Process made = Context.Get(method).Process(() => { });
            Process explicitFalse = Context.Get(method).Process(() => { }, daemon: false);
            ExitWith(Process.Current.Daemon && made.Daemon && !explicitFalse.Daemon);
        }, daemon: true);
        Assert.Equal(0, RunToEnd(p));
    }

    // Item 15 (p.name = 123) needs no child: MainProcessTests.Item015_…

    [Fact]
    public void Item016_Setting_daemon_after_start_throws()
    {
        Process p = Make(() => { });
        p.Start();
        Assert.Equal("process has already started", Refusal(() => p.Daemon = true));
        Assert.True(p.Join(Long));
        Assert.Equal("process has already started", Refusal(() => p.Daemon = true));
        Assert.False(p.Daemon);
    }

    [Fact]
    public void Item017_Unstarted_is_not_alive_and_has_no_exit_code_or_pid()
    {
        Process p = Make(() => { });
        Assert.False(p.IsAlive);
        Assert.Null(p.ExitCode);
        Assert.Null(p.Pid);
        Assert.Null(p.Ident);
        Assert.DoesNotContain(p, Process.ActiveChildren());
    }

    [Fact]
    public void Item018_Unstarted_sentinel_throws()
    {
        Process p = Make(() => { });
        Assert.Equal("process not started", Refusal(() => p.Sentinel));
    }

    [Fact]
    public void Item019_Unstarted_join_throws()
    {
        Process p = Make(() => { });
        Assert.Equal("can only join a started process", Refusal(() => p.Join()));
        Assert.Equal("can only join a started process", Refusal(() => p.Join(TimeSpan.Zero)));
    }

    [Fact]
    public void Item020_Unstarted_repr()
    {
        Process p = Make(() => { });
        Assert.Equal($"<{ClassName} name='{p.Name}' parent={Pid} initial>", p.ToString());
        Process d = Make(() => { }, name: "Custom", daemon: true);
        Assert.Equal($"<{ClassName} name='Custom' parent={Pid} initial daemon>", d.ToString());
        // The exact "<Process name='Process-5' …>" from a fresh main: MainProcessTests.Item007_…
    }

    [Fact]
    public void Item021_Started_is_alive_listed_and_has_a_pending_sentinel()
    {
        Process p = Sleeper();
        p.Start();
        Assert.Null(p.ExitCode);
        Assert.True(p.IsAlive);
        Assert.Contains(p, Process.ActiveChildren());
        Sentinel s = p.Sentinel;
        Assert.NotNull(s);
        Assert.False(s.IsReady);
        Assert.NotNull(s.WaitHandle);
        p.Kill();
        Assert.True(p.Join(Long));
    }

    [Fact]
    public void Item022_Started_repr()
    {
        Process p = Sleeper();
        p.Start();
        Assert.Equal($"<{ClassName} name='{p.Name}' pid={p.Pid} parent={Pid} started>", p.ToString());
        p.Kill();
        Assert.True(p.Join(Long));
    }

    [Fact]
    public void Item023_Start_twice_throws()
    {
        Process p = Make(() => { });
        p.Start();
        Assert.Equal("cannot start a process twice", Refusal(() => p.Start()));
        Assert.True(p.Join(Long));
        Assert.Equal("cannot start a process twice", Refusal(() => p.Start()));
        Assert.Equal(0, p.ExitCode);
    }

    [Fact]
    public void Item024_Start_on_an_object_created_in_another_process_throws()
    {
        // In the child, its own Process object was created by the parent.
        Process p = Make(() => ExitWith(Refusal(() => Process.Current.Start()) == "can only start a process object created by current process"));
        Assert.Equal(0, RunToEnd(p));
    }

    [Fact]
    public void Item025_Join_on_a_process_object_that_is_not_a_child_throws()
    {
        // The child's own object, seen in the child (CPython: also for current_process()).
        Process p = Make(() => ExitWith(
            Refusal(() => Process.Current.Join()) == "can only join a child process" &&
            Refusal(() => Process.Current.Join(TimeSpan.Zero)) == "can only join a child process" &&
            Process.Current.IsAlive));
        Assert.Equal(0, RunToEnd(p));

        // A sibling object cannot reach another process at all (fork's memory copy has no .NET
        // analogue, and a Process never travels as a value, CPython E27), so the sibling case of
        // "can only test a child process" cannot arise: Start() refuses in the parent.
        Process sibling = Make(() => { });
        Process carrier = Make(() => { GC.KeepAlive(sibling); });
        Exception e = Assert.ThrowsAny<Exception>(() => carrier.Start());
        Assert.Contains("process object", e.Message);
        Assert.Null(carrier.Pid);
        Assert.False(carrier.IsAlive);
    }

    private sealed class Item026Target
    {
        public int Value;
        public void Work() { if (Value != 26) Environment.Exit(3); }
    }

    private sealed class Item026Arg
    {
        public int Value;
    }

    private static void Item026Static(Item026Arg arg) { if (arg.Value != 26) Environment.Exit(3); }

    [MethodImpl(MethodImplOptions.NoInlining)]
    private (Process, Process, WeakReference, WeakReference) StartWithReferences()
    {
        var target = new Item026Target { Value = 26 };
        var arg = new Item026Arg { Value = 26 };
        Process p = Make(new Action(target.Work));
        Process q = Make(new Action<Item026Arg>(Item026Static), args: [arg]);
        p.Start();
        q.Start();
        return (p, q, new WeakReference(target), new WeakReference(arg));
    }

    [Fact]
    public void Item026_Start_drops_the_target_and_args()
    {
        (Process p, Process q, WeakReference target, WeakReference arg) = StartWithReferences();
        Assert.True(p.Join(Long));
        Assert.True(q.Join(Long));
        Assert.Equal(0, p.ExitCode); // the target object did travel
        Assert.Equal(0, q.ExitCode);
        GC.Collect();
        GC.WaitForPendingFinalizers();
        GC.Collect();
        Assert.False(target.IsAlive, "the target object outlived Start()");
        Assert.False(arg.IsAlive, "an argument outlived Start()");
    }

    private static void Item027Target(int one, string str, List<int> list, int[] array, (int, string) tuple,
                                      string kw1 = "default", double kw2 = 0, string? none = "x")
    {
        ExitWith(one == 1 && str == "str" && list is [1] && array is [1] && tuple == (1, "a") &&
                 kw1 == "default" && kw2 == 2.54 && none is null);
    }

    [Fact]
    public void Item027_Args_and_kwargs_arrive_exactly()
    {
        // args="ab" (a str iterated into characters) is Python-only: args is an object?[] here.
        var kwargs = new Dictionary<string, object?> { ["kw2"] = 2.54, ["none"] = null };
        Process p = Make(new Action<int, string, List<int>, int[], (int, string), string, double, string?>(Item027Target),
                         args: [1, "str", new List<int> { 1 }, new[] { 1 }, (1, "a")], kwargs: kwargs);
        Assert.Equal(0, RunToEnd(p));
    }

    [Fact]
    public void Item028_Normal_return_gives_exit_code_0_and_stopped_repr()
    {
        Process p = Make(() => { });
        Assert.Equal(0, RunToEnd(p));
        Assert.Equal($"<{ClassName} name='{p.Name}' pid={p.Pid} parent={Pid} stopped exitcode=0>", p.ToString());
    }

    [Fact]
    public void Item029_Join_zero_and_negative_return_at_once_on_a_running_child()
    {
        Process p = Sleeper(daemon: true);
        p.Start();
        var sw = Stopwatch.StartNew();
        Assert.False(p.Join(TimeSpan.Zero));
        Assert.False(p.Join(TimeSpan.FromSeconds(-1)));
        Assert.True(sw.Elapsed < TimeSpan.FromSeconds(5), $"polling joins took {sw.Elapsed}");
        Assert.True(p.IsAlive);
        Assert.Null(p.ExitCode);
        p.Terminate();
        p.Join(); // join() returns nothing, once the child has ended
        Assert.False(p.IsAlive);
        Assert.Equal(-15, p.ExitCode);
    }

    [Fact]
    public void Item030_Join_with_timeout_returns_after_about_the_timeout()
    {
        Process p = Sleeper();
        p.Start();
        var sw = Stopwatch.StartNew();
        Assert.False(p.Join(TimeSpan.FromSeconds(1)));
        TimeSpan took = sw.Elapsed;
        Assert.True(took >= TimeSpan.FromSeconds(0.9), $"join(1 s) returned after {took}");
        Assert.True(took < TimeSpan.FromSeconds(30), $"join(1 s) returned after {took}");
        Assert.True(p.IsAlive);
        p.Kill();
        Assert.True(p.Join(Long));
    }

    [Fact]
    public void Item031_Second_join_after_exit_is_a_no_op()
    {
        Process p = Make(() => { });
        Assert.Equal(0, RunToEnd(p));
        p.Join();
        Assert.True(p.Join(TimeSpan.Zero));
        Assert.True(p.Join(Long));
        Assert.Equal(0, p.ExitCode);
    }

    [Fact]
    public void Item032_Terminate_gives_minus_SIGTERM()
    {
        Process p = Sleeper();
        p.Start();
        p.Terminate();
        Assert.True(p.Join(Long));
        Assert.Equal(-15, p.ExitCode);
        Assert.False(p.IsAlive);
        Assert.DoesNotContain(p, Process.ActiveChildren());
        Assert.Equal($"<{ClassName} name='{p.Name}' pid={p.Pid} parent={Pid} stopped exitcode=-SIGTERM>", p.ToString());
    }

    [Fact]
    public void Item033_Kill_gives_minus_SIGKILL()
    {
        Process p = Sleeper();
        p.Start();
        p.Kill();
        Assert.True(p.Join(Long));
        Assert.Equal(-9, p.ExitCode);
        Assert.False(p.IsAlive);
        Assert.Equal($"<{ClassName} name='{p.Name}' pid={p.Pid} parent={Pid} stopped exitcode=-SIGKILL>", p.ToString());
    }

    private delegate nuint StrLen(IntPtr s);

    /// <summary>
    /// In the child: a genuine segmentation fault inside native code (libc's strlen on a bad
    /// address), where no managed handler claims it, so the process dies of SIGSEGV.
    /// </summary>
    private static void Segfault()
    {
        IntPtr strlen = System.Runtime.InteropServices.NativeLibrary.GetExport(
            System.Runtime.InteropServices.NativeLibrary.Load("libc.so.6"), "strlen");
        System.Runtime.InteropServices.Marshal.GetDelegateForFunctionPointer<StrLen>(strlen)((IntPtr)8);
        Environment.Exit(3);
    }

    private delegate void Abort();

    /// <summary>In the child: libc's abort(), which raises SIGABRT (CPython's os.abort()).</summary>
    private static void AbortSelf()
    {
        IntPtr abort = System.Runtime.InteropServices.NativeLibrary.GetExport(
            System.Runtime.InteropServices.NativeLibrary.Load("libc.so.6"), "abort");
        System.Runtime.InteropServices.Marshal.GetDelegateForFunctionPointer<Abort>(abort)();
        Environment.Exit(3);
    }

    [Fact]
    public void Item034_Self_inflicted_SIGSEGV_and_SIGABRT()
    {
        // CPython's os.kill(self, SIGSEGV) has no faithful .NET analogue: the runtime's own
        // SIGSEGV handler claims a sent (non-hardware) SIGSEGV and aborts or stalls (observed: -6, or
        // no exit within 60 s; a sent SIGABRT also stalled once), so the child faults or aborts for real. A real
        // segmentation fault in native code is what a .NET child "dying of SIGSEGV" means.
        Process segv = Make(() => Segfault());
        Assert.Equal(-11, RunToEnd(segv));
        Assert.EndsWith(" stopped exitcode=-SIGSEGV>", segv.ToString());

        Process abrt = Make(() => AbortSelf());
        Assert.Equal(-6, RunToEnd(abrt));
        Assert.EndsWith(" stopped exitcode=-SIGABRT>", abrt.ToString());
    }

    [Fact]
    public void Item035_Terminate_and_kill_after_exit_are_no_ops()
    {
        Process p = Make(() => { });
        Assert.Equal(0, RunToEnd(p));
        p.Terminate();
        p.Kill();
        p.Terminate();
        Assert.True(p.Join(Long));
        Assert.Equal(0, p.ExitCode);
    }

    [Fact]
    public void Item036_Terminate_before_start_throws_not_started()
    {
        // Documented deviation (API.md): CPython raises AttributeError "'NoneType' object has no
        // attribute 'terminate'"; here it is InvalidOperationException("process not started").
        Process p = Make(() => { });
        Assert.Equal("process not started", Refusal(() => p.Terminate()));
        Assert.Equal("process not started", Refusal(() => p.Kill()));
        Assert.Equal("process not started", Refusal(() => p.Interrupt()));
        Assert.False(p.IsAlive);
    }

    // Item 37 (exit-code name table) needs no child: MainProcessTests.Item037_…

    [Fact]
    public void Item038_Stopped_daemon_repr()
    {
        Process p = Sleeper(daemon: true);
        p.Start();
        p.Terminate();
        Assert.True(p.Join(Long));
        Assert.Equal($"<{ClassName} name='{p.Name}' pid={p.Pid} parent={Pid} stopped exitcode=-SIGTERM daemon>", p.ToString());
    }

    [Fact]
    public void Item039_Close_while_running_throws()
    {
        Process p = Sleeper();
        p.Start();
        Assert.Equal("Cannot close a process while it is still running. You should first call join() or terminate().", Refusal(() => p.Close()));
        Assert.True(p.IsAlive); // the failed close changed nothing
        p.Kill();
        Assert.True(p.Join(Long));
        p.Close();
    }

    [Fact]
    public void Item040_After_close_every_operation_throws_closed()
    {
        Process p = Make(() => { });
        Assert.Equal(0, RunToEnd(p));
        p.Close();
        const string closed = "process object is closed";
        Assert.Equal(closed, Refusal(() => p.IsAlive));
        Assert.Equal(closed, Refusal(() => p.Join()));
        Assert.Equal(closed, Refusal(() => p.Join(TimeSpan.Zero)));
        Assert.Equal(closed, Refusal(() => p.Terminate()));
        Assert.Equal(closed, Refusal(() => p.Kill()));
        Assert.Equal(closed, Refusal(() => p.Start()));
        Assert.Equal(closed, Refusal(() => p.ExitCode));
        Assert.Equal(closed, Refusal(() => p.Pid));
        Assert.Equal(closed, Refusal(() => p.Ident));
        Assert.Equal(closed, Refusal(() => p.Sentinel));
    }

    [Fact]
    public void Item041_After_close_name_daemon_authkey_readable_and_closed_repr()
    {
        Process p = Make(() => { }, name: "Closing", daemon: true);
        Assert.Equal(0, RunToEnd(p));
        p.Close();
        Assert.Equal("Closing", p.Name);
        Assert.True(p.Daemon);
        Assert.Equal(Process.Current.AuthKey, p.AuthKey);
        Assert.Equal($"<{ClassName} name='Closing' parent={Pid} closed daemon>", p.ToString());

        Process q = Make(() => { });
        Assert.Equal(0, RunToEnd(q));
        q.Close();
        Assert.Equal($"<{ClassName} name='{q.Name}' parent={Pid} closed>", q.ToString());
    }

    [MethodImpl(MethodImplOptions.NoInlining)]
    private WeakReference RunAndCloseUntracked()
    {
        // Not tracked: the suite's list would keep it alive. Never left running: see finally.
        Process p = Ctx.Process(() => { });
        try
        {
            p.Start();
            Assert.True(p.Join(Long));
            p.Close();
        }
        finally
        {
            p.Dispose();
        }
        return new WeakReference(p);
    }

    [Fact]
    public void Item042_Close_is_idempotent_allowed_before_start_and_the_object_can_be_collected()
    {
        Process unstarted = Make(() => { });
        unstarted.Close();
        unstarted.Close();
        Assert.Equal("process object is closed", Refusal(() => unstarted.Start()));

        Process p = Make(() => { });
        Assert.Equal(0, RunToEnd(p));
        p.Close();
        p.Close();

        WeakReference collected = RunAndCloseUntracked();
        GC.Collect();
        GC.WaitForPendingFinalizers();
        GC.Collect();
        Assert.False(collected.IsAlive, "a closed Process object was still referenced");
    }

    [Fact]
    public void Item043_ActiveChildren_is_a_new_list_and_reaps_finished_children()
    {
        Process[] ps = [Make(() => { }), Make(() => { }), Make(() => { })];
        foreach (Process p in ps) p.Start();
        // Wait on the sentinels, not Join: ActiveChildren itself must notice the ends.
        foreach (Process p in ps) Assert.True(p.Sentinel.Wait(Long));

        IReadOnlyList<Process> first = Process.ActiveChildren();
        IReadOnlyList<Process> second = Process.ActiveChildren();
        Assert.NotSame(first, second);
        // Other suites may run children in parallel, so "[]" is "none of ours".
        foreach (Process p in ps)
        {
            Assert.DoesNotContain(p, first);
            Assert.Equal(0, p.ExitCode);
            Assert.False(p.IsAlive);
        }
    }

    [Fact]
    public void Item044_Sentinel_is_pending_while_running_and_ready_at_once_after_exit()
    {
        Process p = Sleeper();
        p.Start();
        Sentinel s = p.Sentinel;
        Assert.False(s.Wait(TimeSpan.Zero));
        Assert.False(s.IsReady);
        p.Kill();
        Assert.True(p.Join(Long));
        var sw = Stopwatch.StartNew();
        Assert.True(s.Wait(TimeSpan.FromSeconds(1)));
        Assert.True(sw.Elapsed < TimeSpan.FromSeconds(0.9), $"a ready sentinel took {sw.Elapsed}");
        Assert.True(s.IsReady);
        Assert.True(s.WaitHandle.WaitOne(0));
    }

    [Fact]
    public void Item045_Child_inherits_the_authkey_or_gets_the_one_set()
    {
        byte[] parentKey = Process.Current.AuthKey.ToArray();
        Process inherits = Make(() => ExitWith(Process.Current.AuthKey.ToArray().AsSpan().SequenceEqual(parentKey)));
        Assert.Equal(Process.Current.AuthKey, inherits.AuthKey);
        Assert.Equal(0, RunToEnd(inherits));

        byte[] k = "k"u8.ToArray();
        Process set = Make(() =>
        {
            AuthenticationKey key = Process.Current.AuthKey;
            ExitWith(key.GetType() == typeof(AuthenticationKey) && key.ToArray().AsSpan().SequenceEqual(k));
        });
        set.AuthKey = "k"u8.ToArray();
        Assert.IsType<AuthenticationKey>(set.AuthKey);
        Assert.Equal(k, set.AuthKey.ToArray());
        Assert.Equal(0, RunToEnd(set));
    }
}
