using Multiprocessing.Spawning;

namespace Multiprocessing;

/// <summary>
/// A delegate running in a separate OS process, controlled like a thread: CPython's
/// <c>multiprocessing.Process</c>, with its names, preconditions, error messages and repr.
/// </summary>
/// <example><code>
/// int n = 10_000_000;
/// using var p = new Process(() => Console.WriteLine(CountPrimes(n)));   // n travels to the child
/// p.Start();
/// p.Join();
/// Console.WriteLine(p.ExitCode);   // 0
/// </code></example>
public partial class Process : IDisposable
{
    private Lock? _sync;
    private Delegate? _target;
    private object?[] _args = [];
    private IReadOnlyDictionary<string, object?> _kwargs = EmptyKwargs;
    private string _name = "";
    private bool _daemon;
    private AuthenticationKey _authKey = null!;
    private int[] _identity = EmptyInts.Value; // not [] (EmptyInts says why)
    private int? _parentPid;
    private string? _parentName;
    private bool _killOnParentDeath;
    private ProcessContext? _context;
    /// <summary>In a child's own Process: the start method named by the payload, until <see cref="MethodContext"/> makes the context.</summary>
    private string? _startMethod;
    private string _className = "";
    private ChildHandle? _handle;
    private Sentinel? _sentinel;
    private RemoteException? _exception;
    private bool _exceptionDecoded;
    private bool _closed;

    private static IReadOnlyDictionary<string, object?> EmptyKwargs => NoKeywordArguments.Instance;

    /// <summary>
    /// CPython's <c>Process(target=None, name=None, args=(), kwargs={}, *, daemon=None)</c>. The
    /// target may be a static method, an instance method (its object travels) or a lambda (the
    /// captured variables it uses travel); a target returning a <see cref="Task"/> is awaited.
    /// </summary>
    public Process(Delegate? target = null, object?[]? args = null, IReadOnlyDictionary<string, object?>? kwargs = null,
                   string? name = null, bool? daemon = null)
        : this(Context.Default, null, target, args, kwargs, name, daemon)
    {
    }

    /// <summary>A process running <paramref name="target"/>: <c>new Process(() => Work(42))</c>.</summary>
    public Process(Action target, string? name = null, bool? daemon = null)
        : this(Context.Default, null, target, null, null, name, daemon)
    {
    }

    /// <summary>A process running an async <paramref name="target"/>, awaited in the child.</summary>
    public Process(Func<Task> target, string? name = null, bool? daemon = null)
        : this(Context.Default, null, target, null, null, name, daemon)
    {
    }

    /// <summary>
    /// For a subclass that declares no constructor (<c>class MyProc : Process { public override void Run() … }</c>):
    /// without it the implicit <c>base()</c> would be ambiguous between the other constructors.
    /// </summary>
    protected Process()
        : this(Context.Default, null, null, null, null, null, null)
    {
    }

    /// <summary>For subclasses that override <see cref="Run"/>: <c>base(name: "worker")</c>.</summary>
    protected Process(string? name = null, bool? daemon = null)
        : this(Context.Default, null, null, null, null, name, daemon)
    {
    }

    internal Process(ProcessContext context, string? className, Delegate? target, object?[]? args,
                     IReadOnlyDictionary<string, object?>? kwargs, string? name, bool? daemon)
    {
        Process creator = Current;
        int count = Interlocked.Increment(ref s_counter);
        _context = context;
        _className = className ?? GetType().Name;
        _identity = [.. creator._identity, count];
        _authKey = creator._authKey;
        _daemon = creator._daemon;
        _killOnParentDeath = context.KillOnParentDeath;
        _parentPid = Environment.ProcessId;
        _parentName = creator._name;
        _target = target;
        _args = args ?? [];
        _kwargs = kwargs ?? EmptyKwargs;
        _name = string.IsNullOrEmpty(name) ? _className + "-" + IdentityText(_identity) : name;
        if (daemon is { } d) _daemon = d;
    }

    /// <summary>
    /// "1:2:3", as CPython joins <c>_identity</c>. Over strings, not <c>string.Join&lt;int&gt;</c>:
    /// that generic instantiation was JIT-compiled (fully optimized) in every program's first Process.
    /// </summary>
    private static string IdentityText(int[] identity)
    {
        var parts = new string[identity.Length];
        for (int i = 0; i < parts.Length; i++) parts[i] = identity[i].ToString(System.Globalization.CultureInfo.InvariantCulture);
        return string.Join(':', parts);
    }

    /// <summary>The process's name; used only for identification. Readable after <see cref="Close"/>.</summary>
    /// <exception cref="InvalidOperationException"><c>name must be a string</c> for null.</exception>
    public string Name
    {
        get => _name;
        set => _name = value ?? throw new InvalidOperationException("name must be a string");
    }

    /// <summary>Daemonic processes are terminated when their parent exits normally, and may not have children.</summary>
    /// <exception cref="InvalidOperationException"><c>process has already started</c>.</exception>
    public bool Daemon
    {
        get => _daemon;
        set
        {
            if (_handle is not null) throw new InvalidOperationException("process has already started");
            _daemon = value;
        }
    }

    /// <summary>
    /// Beyond CPython: when true the child dies within a second of its parent's death, however
    /// the parent died (SIGKILL included). Default from the context: false, CPython's behavior.
    /// </summary>
    /// <exception cref="InvalidOperationException"><c>process has already started</c>.</exception>
    public bool KillOnParentDeath
    {
        get => _killOnParentDeath;
        set
        {
            if (_handle is not null || _closed) throw new InvalidOperationException("process has already started");
            _killOnParentDeath = value;
        }
    }

    /// <summary>The authentication key, inherited from the creating process unless set.</summary>
    public AuthenticationKey AuthKey
    {
        get => _authKey;
        set => _authKey = value ?? throw new ArgumentNullException(nameof(value));
    }

    /// <summary>Null while running or unstarted; the exit status; −signum if a signal killed it.</summary>
    public int? ExitCode
    {
        get
        {
            CheckClosed();
            return _handle is { Exited.IsCompletedSuccessfully: true } h ? h.Exited.Result : null;
        }
    }

    /// <summary>The OS process id: this process's for <see cref="Current"/>, null before start.</summary>
    public int? Pid
    {
        get
        {
            CheckClosed();
            return IsCurrent ? Environment.ProcessId : _handle?.Pid;
        }
    }

    /// <summary>Alias of <see cref="Pid"/>.</summary>
    public int? Ident => Pid;

    /// <summary>Ready once the process has ended; usable with <c>Connection.Wait</c>.</summary>
    /// <exception cref="InvalidOperationException"><c>process not started</c>.</exception>
    public Sentinel Sentinel
    {
        get
        {
            CheckClosed();
            return _sentinel ?? throw new InvalidOperationException("process not started");
        }
    }

    /// <summary>Beyond CPython: the child's unhandled exception, as data, once it has ended.</summary>
    public RemoteException? Exception
    {
        get
        {
            lock (LazyLock.Get(ref _sync))
            {
                if (!_exceptionDecoded && _handle is { Exited.IsCompleted: true, ExceptionData: { } data })
                {
                    _exception = RemoteExceptionCodec.Decode(data);
                    _exceptionDecoded = true;
                }
                return _exception;
            }
        }
    }

    /// <summary>True from <see cref="Start"/> until the process has ended.</summary>
    /// <exception cref="InvalidOperationException"><c>can only test a child process</c>.</exception>
    public bool IsAlive
    {
        get
        {
            CheckClosed();
            if (IsCurrent) return true;
            if (_parentPid != Environment.ProcessId) throw new InvalidOperationException("can only test a child process");
            if (_handle is null) return false;
            if (!_handle.Exited.IsCompleted) return true;
            RemoveChild(this);
            return false;
        }
    }

    private bool IsCurrent => ReferenceEquals(this, s_current);

    /// <summary>What the child runs: calls the target with the arguments. Subclasses override it.</summary>
    public virtual void Run()
    {
        if (_target is null) return;
        if (_args.Length == 0 && _kwargs.Count == 0 && _target is Action action)
        {
            // The common shape, called directly: binding and DynamicInvoke's first call (reflection
            // setup) stood between a forkserver child's start and its target's first statement.
            action();
            return;
        }
        RunBound();
    }

    // Apart and not inlined: a ReadyToRun method resolves the types it names on first entry, and
    // this half's (binding, tasks, value tasks) were a dozen type loads before every Action target.
    [System.Runtime.CompilerServices.MethodImpl(System.Runtime.CompilerServices.MethodImplOptions.NoInlining)]
    private void RunBound()
    {
        object? result;
        try
        {
            result = _target!.DynamicInvoke(ArgumentBinder.Bind(_target, _args, _kwargs));
        }
        catch (System.Reflection.TargetInvocationException e) when (e.InnerException is not null)
        {
            System.Runtime.ExceptionServices.ExceptionDispatchInfo.Capture(e.InnerException).Throw();
            throw;
        }
        switch (result)
        {
            case Task task: task.GetAwaiter().GetResult(); break;
            case ValueTask valueTask: valueTask.AsTask().GetAwaiter().GetResult(); break;
        }
    }

    /// <summary>Waits until the process ends.</summary>
    /// <exception cref="InvalidOperationException"><c>can only join a child process</c>, <c>can only join a started process</c>.</exception>
    public void Join() => Join(null);

    /// <summary>Waits at most <paramref name="timeout"/> (zero or negative: poll). True if the process has ended.</summary>
    public bool Join(TimeSpan timeout) => Join((TimeSpan?)timeout);

    private bool Join(TimeSpan? timeout)
    {
        ChildHandle handle = CheckJoinable();
        if (!TaskWaits.Wait(handle.Exited, timeout)) return false;
        RemoveChild(this);
        return true;
    }

    /// <summary>Completes when the process has ended; cancellation stops the wait, not the child.</summary>
    public async Task JoinAsync(CancellationToken cancellationToken = default)
    {
        ChildHandle handle = CheckJoinable();
        await handle.Exited.WaitAsync(cancellationToken).ConfigureAwait(false);
        RemoveChild(this);
    }

    private ChildHandle CheckJoinable()
    {
        CheckClosed();
        if (_parentPid != Environment.ProcessId) throw new InvalidOperationException("can only join a child process");
        return _handle ?? throw new InvalidOperationException("can only join a started process");
    }

    /// <summary>Sends SIGTERM; a no-op once the child has ended.</summary>
    public void Terminate() => Signal(Interop.Libc.SIGTERM);

    /// <summary>Sends SIGKILL; a no-op once the child has ended.</summary>
    public void Kill() => Signal(Interop.Libc.SIGKILL);

    /// <summary>Sends SIGINT (CPython 3.14): the child prints <c>Process NAME:</c> and exits with 1.</summary>
    public void Interrupt() => Signal(Interop.Libc.SIGINT);

    private void Signal(int signal)
    {
        CheckClosed();
        (_handle ?? throw new InvalidOperationException("process not started")).Signal(signal);
    }

    /// <summary>Releases the process's resources; allowed before start and repeatedly.</summary>
    /// <exception cref="InvalidOperationException">The process is still running.</exception>
    public void Close()
    {
        if (IsCurrent && _handle is null) return;
        lock (LazyLock.Get(ref _sync))
        {
            if (_handle is { } h)
            {
                if (!h.Exited.IsCompleted)
                    throw new InvalidOperationException("Cannot close a process while it is still running. You should first call join() or terminate().");
                _ = Exception; // decode before the handle goes
                h.Dispose();
                _handle = null;
                RemoveChild(this);
            }
            _sentinel = null;
            _closed = true;
        }
    }

    /// <summary>Never throws: a running child is killed and reaped, then the process is closed.</summary>
    public void Dispose()
    {
        try
        {
            if (_handle is { } h && !IsCurrent)
            {
                if (!h.Exited.IsCompleted)
                {
                    h.Signal(Interop.Libc.SIGKILL);
                    TaskWaits.Wait(h.Exited, TimeSpan.FromSeconds(30));
                }
                if (h.Exited.IsCompleted) Close();
            }
            else if (!IsCurrent)
            {
                Close();
            }
        }
        catch (System.Exception e) when (e is InvalidOperationException or IOException)
        {
            // Dispose never throws.
        }
        GC.SuppressFinalize(this);
    }

    private void CheckClosed()
    {
        if (_closed) throw new InvalidOperationException("process object is closed");
    }
}
