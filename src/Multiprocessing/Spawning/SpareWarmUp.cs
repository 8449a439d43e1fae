using System.Reflection;
using System.Runtime.CompilerServices;
using System.Runtime.Loader;
using System.Runtime.Serialization;

namespace Multiprocessing.Spawning;

/// <summary>
/// What a forkserver spare does while it waits for a payload: run the start path once on dummy
/// data and JIT-compile this library, so a real start runs compiled code. Measured with
/// <c>JitInfo.GetCompiledMethodCount</c> in the spare: payload receipt → target entry went from
/// 52 JIT-compiled methods (serializer-only warm-up) to 11.
/// </summary>
internal static class SpareWarmUp
{
    /// <summary>The app assemblies the parent had loaded when it launched the spare, comma-separated simple names.</summary>
    internal const string PreloadVariable = "MULTIPROCESSING_PRELOAD";

    /// <summary>Target methods the parent started lately (<see cref="RecentTargets"/>), compiled here ahead of a start.</summary>
    internal const string PrepareVariable = "MULTIPROCESSING_PREPARE";

    /// <summary>Set when the parent's starts pass connections: the spare makes and uses a pipe of its own first.</summary>
    internal const string SocketsVariable = "MULTIPROCESSING_WARM_SOCKETS";

    private const BindingFlags Declared = BindingFlags.DeclaredOnly | BindingFlags.Public | BindingFlags.NonPublic |
                                          BindingFlags.Instance | BindingFlags.Static;

    internal static void Run()
    {
        try
        {
            byte[] data = RemoteExceptionCodec.Encode(new InvalidOperationException("warm-up", new ArgumentException("inner")));
            _ = RemoteExceptionCodec.Decode(data);
            // A whole start payload: its header, a plain Process, a closure with captures, common
            // argument values and kwargs, decoded as the real one will be (reading the header
            // alone cost the handoff ~0.3 ms when only the values had been rehearsed).
            int n = Environment.ProcessId;
            string text = "warm-up";
            Action<object?[]> closure = values => GC.KeepAlive(text + n + values.Length);
            var kwargs = new Dictionary<string, object?> { ["k"] = 1 };
            object?[] values = [1, "s", 2.0, new[] { 1L }, true, new[] { 1 }];
            ProcessPayload.Rehearse(closure, [values], kwargs);
            // A lambda without captures too: a delegate closed over null (ObjectReader.ReadDelegate),
            // and as a whole plain start, which PlainStart decodes without the serializer.
            Action noCaptures = static () => { };
            _ = ProcessSerialization.Serializer.Deserialize(ProcessSerialization.Serializer.Serialize(noCaptures));
            ProcessPayload.Rehearse(noCaptures, [], NoKeywordArguments.Instance);
        }
        catch (Exception e) when (e is InvalidDataException or SerializationException)
        {
            // Warm-up is an optimization only.
        }
        PrepareLibrary();
        if (Environment.GetEnvironmentVariable(SocketsVariable) is not null) WarmSockets();
        Environment.SetEnvironmentVariable(SocketsVariable, null);
        Preload();
        PrepareTargets(Environment.GetEnvironmentVariable(PrepareVariable));
        Environment.SetEnvironmentVariable(PrepareVariable, null);
    }

    /// <summary>JIT-compiles the targets the parent named (after <see cref="Preload"/>: their assemblies are loaded); one that does not resolve is skipped.</summary>
    internal static int PrepareTargets(string? variable)
    {
        int prepared = 0;
        foreach ((string assembly, int token) in RecentTargets.Parse(variable))
        {
            try
            {
                if (Assembly.Load(assembly).ManifestModule.ResolveMethod(token) is MethodInfo { IsAbstract: false, ContainsGenericParameters: false } method)
                {
                    RuntimeHelpers.PrepareMethod(method.MethodHandle);
                    _ = RehearseInstanceTarget(method);
                    prepared++;
                }
            }
            catch (Exception e) when (e is ArgumentException or FileNotFoundException or FileLoadException or BadImageFormatException or
                                           TypeLoadException or InvalidOperationException or NotSupportedException or MissingMethodException or
                                           MemberAccessException or InvalidDataException or SerializationException)
            {
                // A target not prepared here is compiled when it runs, as without the hint.
            }
        }
        return prepared;
    }

    /// <summary>
    /// A target that is a lambda taking nothing over a closure: a start payload over an
    /// uninitialized instance of the compiler's closure class is encoded and decoded once, so the
    /// real one finds the class's fields looked up and their setters used (the decode of a closure
    /// the spare had not met was most of its share of the handoff: Start()→first line 1.0 → 0.7 ms
    /// in alternating rounds). Only the compiler's closure classes: they have no static
    /// constructor, which an app's own class might, and that would then run in the spare.
    /// </summary>
    /// <returns>True if the rehearsal ran to the end.</returns>
    internal static bool RehearseInstanceTarget(MethodInfo method)
    {
        if (method.IsStatic || method.ReturnType != typeof(void) || method.GetParameters().Length != 0 ||
            method.DeclaringType is not { IsAbstract: false, ContainsGenericParameters: false, IsValueType: false } type ||
            !Serialization.ClosureAnalyzer.IsCompilerGenerated(type))
            return false;
        try
        {
            var action = (Action)method.CreateDelegate(typeof(Action), RuntimeHelpers.GetUninitializedObject(type));
            ProcessPayload.Rehearse(action, [], NoKeywordArguments.Instance);
            return true;
        }
        catch (Exception)
        {
            // A rehearsal only: whatever it meets (a closure the writer refuses, odd IL), the real
            // start is encoded and decoded as without it, and an idle spare must not die of it.
            return false;
        }
    }

    /// <summary>
    /// The parent's side: its loaded app assemblies (not the framework's, nor this library), where
    /// the targets it starts are likely to live. Resolving a target's type in a spare that had not
    /// loaded its assembly cost ≈ 0.3 ms of the handoff.
    /// </summary>
    internal static string AssembliesToPreload()
    {
        string framework = Path.GetDirectoryName(typeof(object).Assembly.Location) ?? "";
        var names = new List<string>();
        foreach (Assembly a in AssemblyLoadContext.Default.Assemblies)
        {
            if (a.IsDynamic || a == typeof(SpareWarmUp).Assembly || a.Location.Length == 0) continue;
            if (framework.Length > 0 && a.Location.StartsWith(framework, StringComparison.Ordinal)) continue;
            if (a.GetName().Name is { } name) names.Add(name);
        }
        return string.Join(',', names);
    }

    /// <summary>
    /// A connection's first use in a process makes its first sockets and runs its send and
    /// receive paths for the first time: measured, a forkserver start whose target sent one
    /// object through a Pipe end it was passed took 22–26 ms start→join, 14–16 ms with this done
    /// while idle (until connections stopped calling Socket.Send/Receive, the first call also
    /// started the socket engine's telemetry and with it globalization: 24.6 against 11.2 ms).
    /// Only for a parent that passes connections: a spare for one that never does stays without it.
    /// </summary>
    private static void WarmSockets()
    {
        try
        {
            (Connection a, Connection b) = Connection.Pipe();
            using (a)
            using (b)
            {
                a.Send(0);
                _ = b.Recv();
            }
            SocketsWarmed = true;
        }
        catch (Exception e) when (e is IOException or InvalidOperationException or InvalidDataException or System.Net.Sockets.SocketException)
        {
            // Warm-up is an optimization only.
        }
    }

    /// <summary>Whether this spare made and used a Pipe while idle (see <see cref="WarmSockets"/>).</summary>
    internal static bool SocketsWarmed { get; private set; }

    /// <summary>Loads (runs no code of) the assemblies the parent named; one that does not resolve here is skipped.</summary>
    private static void Preload()
    {
        string? list = Environment.GetEnvironmentVariable(PreloadVariable);
        Environment.SetEnvironmentVariable(PreloadVariable, null);
        foreach (string name in (list ?? "").Split(',', StringSplitOptions.RemoveEmptyEntries))
        {
            try { Assembly.Load(name); }
            catch (Exception e) when (e is FileNotFoundException or FileLoadException or BadImageFormatException or ArgumentException)
            {
                // A payload from it fails (or not) exactly as without the preload.
            }
        }
    }

    private static void PrepareLibrary()
    {
        foreach (Type type in typeof(SpareWarmUp).Assembly.GetTypes())
        {
            // The MessagePack fallback stays unloaded until a payload needs it: loading it costs
            // the spare memory for a path most starts never take.
            if (type.ContainsGenericParameters || type == typeof(Serialization.MessagePackFallback)) continue;
            foreach (MethodBase method in type.GetConstructors(Declared).Concat<MethodBase>(type.GetMethods(Declared)))
            {
                if (method.IsAbstract || method.ContainsGenericParameters) continue;
                try { RuntimeHelpers.PrepareMethod(method.MethodHandle); }
                catch (Exception e) when (e is ArgumentException or InvalidOperationException or NotSupportedException or
                                               BadImageFormatException or TypeLoadException or FileNotFoundException)
                {
                    // A method that cannot be prepared ahead is compiled on first call, as usual.
                }
            }
        }
    }
}
