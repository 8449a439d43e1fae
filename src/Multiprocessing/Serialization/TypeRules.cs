using System.Net.Sockets;
using System.Runtime.CompilerServices;
using System.Reflection;
using System.Runtime.InteropServices;

namespace Multiprocessing.Serialization;

/// <summary>Which encoding a type gets, and which types can never leave their process.</summary>
internal static class TypeRules
{
    internal const BindingFlags InstanceFields =
        BindingFlags.Instance | BindingFlags.Public | BindingFlags.NonPublic | BindingFlags.DeclaredOnly;

    /// <summary>
    /// Why a value of this type is process-local (an OS handle, a thread, live I/O), or null if
    /// it may travel. These fail in the sender: CPython's "cannot pickle '…' object".
    /// </summary>
    internal static string? WhyProcessLocal(Type type) => RulesOf(type).WhyProcessLocal;

    // Per-type answers, computed once: these checks (a dozen IsAssignableFrom, an AssemblyName
    // built per call, field reflection) ran for every object of every message.
    private sealed record Rules(string? WhyProcessLocal, bool IsFieldwise);
    private static readonly SyncCache<Type, Rules> s_rules = new(ReferenceEqualityComparer.Instance);
    // Field lists by type, then by the base type they stop at (object for all of them).
    private static readonly SyncCache<Type, SyncCache<Type, FieldInfo[]>> s_fields = new(ReferenceEqualityComparer.Instance);

    private static Rules RulesOf(Type type) =>
        s_rules.GetOrAdd(type, static t => new Rules(ComputeWhyProcessLocal(t), ComputeIsFieldwise(t)));

    private static string? ComputeWhyProcessLocal(Type type)
    {
        if (type.IsPointer || type == typeof(IntPtr) || type == typeof(UIntPtr))
            return "it is a native pointer or handle, meaningless in another process";
        if (typeof(MarshalByRefObject).IsAssignableFrom(type))
            return "it wraps an operating-system resource (a stream, wait handle or process) that belongs to this process";
        if (typeof(SafeHandle).IsAssignableFrom(type) || typeof(Socket).IsAssignableFrom(type))
            return "it owns an operating-system handle that belongs to this process";
        if (typeof(Thread).IsAssignableFrom(type) || typeof(Task).IsAssignableFrom(type) ||
            typeof(CancellationTokenSource).IsAssignableFrom(type) || type == typeof(CancellationToken) ||
            typeof(MemberInfo).IsAssignableFrom(type) && !typeof(Type).IsAssignableFrom(type) ||
            typeof(Assembly).IsAssignableFrom(type) || typeof(WeakReference).IsAssignableFrom(type) ||
            type.IsGenericType && type.GetGenericTypeDefinition() == typeof(WeakReference<>))
            return "it is tied to this process's threads, tasks or runtime state";
        return null;
    }

    /// <summary>
    /// Types sent field by field, like pickle's <c>__dict__</c>: the application's own types,
    /// compiler-generated closures, and the framework's tuples. Other framework types go to
    /// the MessagePack fallback, which knows their public shape.
    /// </summary>
    internal static bool IsFieldwise(Type type) => RulesOf(type).IsFieldwise;

    private static bool ComputeIsFieldwise(Type type)
    {
        if (type.IsPrimitive || type.IsEnum || type.IsArray) return false;
        if (type.IsGenericType)
        {
            Type def = type.GetGenericTypeDefinition();
            string? ns = def.Namespace;
            if (ns == "System" && (def.Name.StartsWith("ValueTuple`", StringComparison.Ordinal) || def.Name.StartsWith("Tuple`", StringComparison.Ordinal)))
                return true;
            if (def == typeof(KeyValuePair<,>)) return true;
        }
        return !IsFrameworkAssembly(type.Assembly) || ClosureAnalyzer.IsCompilerGenerated(type);
    }

    internal static bool IsFrameworkAssembly(Assembly assembly)
    {
        string name = assembly.GetName().Name ?? "";
        return name == "mscorlib" || name == "netstandard" || name.StartsWith("System.", StringComparison.Ordinal) ||
               name == "System" || name.StartsWith("Microsoft.", StringComparison.Ordinal) ||
               name == "MessagePack" || name.StartsWith("MessagePack.", StringComparison.Ordinal) ||
               assembly == typeof(TypeRules).Assembly;
    }

    /// <summary>All instance fields, most-derived type first, stopping before <paramref name="stopAt"/>.</summary>
    internal static IReadOnlyList<FieldInfo> FieldsOf(Type type, Type? stopAt = null) =>
        s_fields.GetOrAdd(type, static _ => new(ReferenceEqualityComparer.Instance)).GetOrAdd(stopAt ?? typeof(object), stop => [.. ComputeFieldsOf(type, stop)]);

    private static IEnumerable<FieldInfo> ComputeFieldsOf(Type type, Type? stopAt)
    {
        for (Type? t = type; t is not null && t != stopAt && t != typeof(object) && t != typeof(ValueType); t = t.BaseType)
        {
            foreach (FieldInfo f in t.GetFields(InstanceFields))
            {
                if (!f.IsDefined(typeof(NonSerializedAttribute), false)) yield return f; // [NonSerialized] stays behind, as with pickle's __getstate__
            }
        }
    }
}
