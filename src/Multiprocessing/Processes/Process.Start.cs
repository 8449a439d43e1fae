using Multiprocessing.Spawning;

namespace Multiprocessing;

public partial class Process
{
    /// <summary>
    /// Starts the child. Everything it needs is serialized here, in the parent: a target, argument
    /// or field that cannot travel throws a <see cref="System.Runtime.Serialization.SerializationException"/>
    /// naming the type and member, and no child is started. Afterwards this object holds no
    /// reference to the target or its arguments (CPython bpo-30775).
    /// </summary>
    /// <exception cref="InvalidOperationException">CPython's preconditions: <c>cannot start a process twice</c>,
    /// <c>can only start a process object created by current process</c>,
    /// <c>daemonic processes are not allowed to have children</c>.</exception>
    public void Start()
    {
        lock (LazyLock.Get(ref _sync))
        {
            CheckClosed();
            if (_handle is not null) throw new InvalidOperationException("cannot start a process twice");
            if (_parentPid != Environment.ProcessId)
                throw new InvalidOperationException("can only start a process object created by current process");
            if (Current._daemon) throw new InvalidOperationException("daemonic processes are not allowed to have children");
            ChildHost.CheckNotBootstrapping();
            MethodContext.Method.Anticipate();
            if (_target is not null) ArgumentBinder.Bind(_target, _args, _kwargs); // a bad call fails here, not in the child
            Cleanup();

            (byte[] payload, IReadOnlyList<int> descriptors) = ProcessPayload.Encode(this);
            ChildHandle handle = MethodContext.Method.Launch(payload, descriptors, _target?.Method);
            _handle = handle;
            _sentinel = new Sentinel(handle.Exited);
            _target = null;
            _args = [];
            _kwargs = EmptyKwargs;
            AddChild(this);
            EnsureExitFunction();
        }
    }

    /// <summary>
    /// The child's rebuilt plain <see cref="Process"/>: no constructor logic runs, as with pickle
    /// and a subclass's <c>GetUninitializedObject</c>, but without naming the type or that call's
    /// cache, which the runtime JIT-compiles on first use (~1 ms of a cold start).
    /// </summary>
    internal static Process CreateUninitialized() => new(default(Uninitialized));

    private readonly struct Uninitialized;

    private Process(Uninitialized _) { }

    /// <summary>Fields the child host sets on the rebuilt object (no constructor runs there, as with pickle).</summary>
    internal void InitializeInChild(ProcessPayload.Header header, Delegate? target, object?[] args, IReadOnlyDictionary<string, object?>? kwargs)
    {
        _name = header.Name;
        _identity = header.Identity;
        _authKey = AuthenticationKey.Adopt(header.AuthKey);
        _daemon = header.Daemon;
        _parentPid = header.ParentPid;
        _parentName = header.ParentName;
        _killOnParentDeath = header.KillOnParentDeath;
        _className = header.ClassName;
        // The context itself is made when first needed (MethodContext): a started child rarely does.
        _startMethod = Context.IsMethodName(header.StartMethod)
            ? header.StartMethod
            : throw UnknownStartMethod(header.StartMethod);
        _target = target;
        _args = args;
        _kwargs = kwargs ?? EmptyKwargs;
    }

    internal ProcessPayload.Header CreateHeader() => new(
        _name, _identity, _authKey.ToArray(), _daemon, Environment.ProcessId, Current._name,
        StartMethodName, _killOnParentDeath, _className);

    internal (Delegate? Target, object?[] Args, IReadOnlyDictionary<string, object?> Kwargs) StartArguments => (_target, _args, _kwargs);

    internal string ParentNameForChild => _parentName ?? "MainProcess";
    internal int ParentPidForChild => _parentPid ?? 0;
    internal string StartMethodName => _context?.StartMethod ?? _startMethod!;

    /// <summary>This process's context: given at construction, or made from the payload's method name in a child.</summary>
    private ProcessContext MethodContext => _context ??= Context.Get(_startMethod!);

    // Out of line: a ReadyToRun method loads every type it names when first entered, and InitializeInChild
    // is on a spawned child's start path, which never throws.
    private static InvalidDataException UnknownStartMethod(string method) =>
        Serialization.ByteCursor.Corrupt($"unknown start method {PyRepr.Str(method)}");
}
