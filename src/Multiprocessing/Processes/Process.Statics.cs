namespace Multiprocessing;

public partial class Process
{
    private static Lock? s_registry;
    /// <summary>
    /// Made by the first Start(): a child that starts none never builds the set (its exact
    /// generic type and its default comparer, made by reflection, cost a spawned child a dozen
    /// type loads before its target). By reference: a Process is its own identity.
    /// </summary>
    private static HashSet<Process>? s_children;
    private static Process? s_current;
    private static ParentProcess? s_parent;
    private static int s_counter;
    private static int s_exitFunctionRegistered;

    /// <summary>The process this code runs in (CPython <c>current_process()</c>): <c>MainProcess</c>, or in a child its own Process object.</summary>
    public static Process Current
    {
        get
        {
            if (s_current is { } c) return c;
            lock (LazyLock.Get(ref s_registry)) return s_current ??= new MainProcess();
        }
    }

    /// <summary>The parent as seen from a child (CPython <c>parent_process()</c>); null in the main process.</summary>
    public static ParentProcess? Parent => s_parent;

    /// <summary>Live children of this process; finished ones are reaped and dropped (CPython <c>active_children()</c>).</summary>
    public static IReadOnlyList<Process> ActiveChildren()
    {
        Cleanup();
        // A plain copy: a collection expression here pulls System.Linq into every child's exit path.
        lock (LazyLock.Get(ref s_registry)) return s_children is null ? Array.Empty<Process>() : new List<Process>(s_children);
    }

    internal static bool FreezeSupportCalled { get; private set; }

    /// <summary>
    /// For trimmed, single-file and NativeAOT apps only, which can run neither the library's child
    /// host nor a startup hook: call this as the first statement of <c>Main</c> (CPython
    /// <c>freeze_support()</c>). In a child it runs the target and exits; otherwise it returns.
    /// </summary>
    /// <example><code>static void Main() { Process.FreezeSupport(); … }</code></example>
    public static void FreezeSupport()
    {
        FreezeSupportCalled = true;
        ChildHost.RunIfChild(exitWhenDone: true);
    }

    private static void Cleanup()
    {
        lock (LazyLock.Get(ref s_registry)) s_children?.RemoveWhere(p => p._handle is not { Exited.IsCompleted: false });
    }

    private static void AddChild(Process p)
    {
        lock (LazyLock.Get(ref s_registry)) (s_children ??= new HashSet<Process>(ReferenceEqualityComparer.Instance)).Add(p);
    }

    private static void RemoveChild(Process p)
    {
        lock (LazyLock.Get(ref s_registry)) s_children?.Remove(p);
    }

    /// <summary>
    /// CPython <c>util._exit_function</c>, run at the normal exit of every process: terminate
    /// the daemonic children, then join every child with no timeout.
    /// </summary>
    internal static void RunExitFunction()
    {
        if (Volatile.Read(ref s_children) is null) return; // never started one: no lock to make (LazyLock)
        lock (LazyLock.Get(ref s_registry))
        {
            if (s_children is not { Count: > 0 }) return;
        }
        StopAndJoinChildren();
    }

    // Separate and not inlined: a ReadyToRun method resolves what it names on first entry, and
    // this half (tasks, handles, signals) cost ~0.5 ms of every childless child's exit when inline.
    [System.Runtime.CompilerServices.MethodImpl(System.Runtime.CompilerServices.MethodImplOptions.NoInlining)]
    private static void StopAndJoinChildren()
    {
        foreach (Process p in ActiveChildren())
        {
            if (p._daemon) try { p._handle?.Signal(Interop.Libc.SIGTERM); } catch (IOException) { }
        }
        foreach (Process p in ActiveChildren())
        {
            p._handle?.Exited.ContinueWith(_ => { }, TaskScheduler.Default).Wait();
        }
    }

    private static void EnsureExitFunction()
    {
        if (Interlocked.Exchange(ref s_exitFunctionRegistered, 1) == 0)
            AppDomain.CurrentDomain.ProcessExit += (_, _) => RunExitFunction();
    }

    /// <summary>Called by the child host: this process is <paramref name="self"/>, started by <paramref name="parent"/>.</summary>
    internal static void BecomeChild(Process self, ParentProcess parent)
    {
        Interlocked.Exchange(ref s_exitFunctionRegistered, 1); // the child host runs the exit function itself, before its exit frame
        // No lock: the child host calls this once, before any of the target's code runs (LazyLock).
        Volatile.Write(ref s_parent, parent);
        Volatile.Write(ref s_current, self);
    }

    /// <summary>The main process (CPython <c>_MainProcess</c>).</summary>
    private sealed class MainProcess : Process
    {
        internal MainProcess() : base(main: true) { }
    }

    private Process(bool main)
    {
        _ = main;
        _context = Context.Default;
        _className = "_MainProcess";
        _name = "MainProcess";
        _authKey = AuthenticationKey.CreateRandom();
    }
}
