using System.Reflection;
using System.Reflection.Emit;
using System.Runtime.CompilerServices;

namespace Multiprocessing.Serialization;

/// <summary>
/// Finds which fields of compiler-generated closure objects a delegate really uses.
/// <para>
/// The C# compiler puts every captured local of one scope into a single display-class object
/// shared by all lambdas of that scope, so serializing <c>delegate.Target</c> whole would ship
/// (or fail on) locals the target never reads. Like cloudpickle, only what the code references
/// travels: we scan the target's IL for <c>ldfld</c>/<c>ldflda</c>/<c>stfld</c> on
/// compiler-generated types, following the lambdas, local functions and async/iterator state
/// machines it reaches (<c>&lt;&gt;8__locals</c> links are fields like any other).
/// </para>
/// </summary>
internal sealed class ClosureAnalyzer
{
    private readonly HashSet<MethodBase> _visited = [];

    /// <summary>Fields of compiler-generated types read or written by analyzed code.</summary>
    public HashSet<FieldInfo> UsedFields { get; } = [];

    /// <summary>Compiler-generated types whose field use is known: only <see cref="UsedFields"/> of them travel.</summary>
    public HashSet<Type> AnalyzedTypes { get; } = [];

    /// <summary>Raised when analysis learns a new used field (the writer may have to start again).</summary>
    public bool Grew { get; set; }

    public static bool IsCompilerGenerated(Type? type)
    {
        for (; type is not null; type = type.DeclaringType)
        {
            if (type.Name.StartsWith('<') || type.IsDefined(typeof(CompilerGeneratedAttribute), false))
                return true;
        }
        return false;
    }

    /// <summary>
    /// Whether <paramref name="target"/> is the compiler's stateless singleton (the <c>&lt;&gt;9</c>
    /// field of a <c>&lt;&gt;c</c> class) that a lambda capturing nothing is closed over.
    /// </summary>
    public static bool IsStatelessSingleton(object target) =>
        s_singletons.GetOrAdd(target.GetType(), static t => new Singleton(
            IsCompilerGenerated(t) ? t.GetField("<>9", BindingFlags.Static | BindingFlags.Public | BindingFlags.NonPublic)?.GetValue(null) : null)).Instance == target;

    // Per type, looked up once: a field lookup by name on every delegate of every message.
    private sealed record Singleton(object? Instance);
    private static readonly SyncCache<Type, Singleton> s_singletons = new(ReferenceEqualityComparer.Instance);

    /// <summary>
    /// What each method reaches, scanned once per process: reading and resolving a lambda's IL
    /// took longer than the rest of a start's serialization, and a method's IL never changes.
    /// </summary>
    private static readonly SyncCache<MethodInfo, Reach> s_reached = new();

    private sealed record Reach(FieldInfo[] Fields, Type[] Types);

    public void Analyze(MethodInfo method)
    {
        if (method.DeclaringType is { } t && IsCompilerGenerated(t) && AnalyzedTypes.Add(t))
            Grew = true;
        (FieldInfo[] fields, Type[] types) = s_reached.GetOrAdd(method, static m =>
        {
            var alone = new ClosureAnalyzer();
            alone.Scan(m);
            return new Reach([.. alone.UsedFields], [.. alone.AnalyzedTypes]);
        });
        foreach (FieldInfo f in fields)
            if (UsedFields.Add(f)) Grew = true;
        foreach (Type type in types)
            if (AnalyzedTypes.Add(type)) Grew = true;
    }

    private void Scan(MethodBase method)
    {
        if (!_visited.Add(method)) return;
        byte[]? il;
        try { il = method.GetMethodBody()?.GetILAsByteArray(); }
        catch (InvalidOperationException) { return; }
        if (il is null) return;

        Type[]? typeArgs = method.DeclaringType is { IsGenericType: true } dt ? dt.GetGenericArguments() : null;
        Type[]? methodArgs = method.IsGenericMethod ? method.GetGenericArguments() : null;
        Module module = method.Module;

        for (int i = 0; i < il.Length;)
        {
            short code = il[i++];
            if (code == 0xFE && i < il.Length) code = (short)(0xFE00 | il[i++]);
            if (OperandTypeOf(code) is not { } operand) return; // unknown opcode: stop, never guess
            int operandStart = i;
            i += OperandSize(operand, il, i);
            if (operand == OperandType.InlineField)
                OnField(Resolve(() => module.ResolveField(BitConverter.ToInt32(il, operandStart), typeArgs, methodArgs)));
            else if (operand == OperandType.InlineMethod)
                OnMethod(Resolve(() => module.ResolveMethod(BitConverter.ToInt32(il, operandStart), typeArgs, methodArgs)));
        }
    }

    private static T? Resolve<T>(Func<T?> resolve) where T : class
    {
        try { return resolve(); }
        catch (Exception e) when (e is ArgumentException or BadImageFormatException or TypeLoadException or MissingMemberException) { return null; }
    }

    private void OnField(FieldInfo? field)
    {
        if (field is null || field.IsStatic || field.DeclaringType is not { } owner || !IsCompilerGenerated(owner)) return;
        if (UsedFields.Add(field)) Grew = true;
        if (AnalyzedTypes.Add(owner)) Grew = true;
        ScanStateMachine(owner);
    }

    private void OnMethod(MethodBase? callee)
    {
        if (callee is null) return;
        if (IsCompilerGenerated(callee.DeclaringType) || callee.Name.StartsWith('<'))
            Scan(callee);
        // AsyncTaskMethodBuilder.Start<TStateMachine>(ref sm): the lambda body is in sm.MoveNext.
        if (callee.IsGenericMethod)
        {
            foreach (Type arg in callee.GetGenericArguments())
                if (IsCompilerGenerated(arg)) ScanStateMachine(arg);
        }
    }

    private void ScanStateMachine(Type type)
    {
        if (!typeof(IAsyncStateMachine).IsAssignableFrom(type) && type.GetMethod("MoveNext", BindingFlags.Instance | BindingFlags.NonPublic | BindingFlags.Public) is null)
            return;
        foreach (MethodInfo m in type.GetMethods(BindingFlags.Instance | BindingFlags.Static | BindingFlags.Public | BindingFlags.NonPublic | BindingFlags.DeclaredOnly))
            Scan(m);
    }

    private static int OperandSize(OperandType operand, byte[] il, int at) => operand switch
    {
        OperandType.InlineNone => 0,
        OperandType.ShortInlineBrTarget or OperandType.ShortInlineI or OperandType.ShortInlineVar => 1,
        OperandType.InlineVar => 2,
        OperandType.InlineI8 or OperandType.InlineR => 8,
        OperandType.InlineSwitch => 4 + 4 * BitConverter.ToInt32(il, at),
        _ => 4,
    };

    /// <summary>
    /// The operand of a one-byte opcode, or of <c>0xFE</c> followed by the low byte; null for a
    /// byte that is no opcode. ECMA-335 Partition III's table, as <see cref="OpCodes"/> lists it
    /// (a test compares the two): reading it from <see cref="OpCodes"/> by reflection, into a
    /// dictionary keyed by <c>short</c>, cost the first start of every program ~4 ms (230 fields
    /// read, and the dictionary's methods JIT-compiled for a key type nothing else uses).
    /// </summary>
    internal static OperandType? OperandTypeOf(short code)
    {
        ReadOnlySpan<byte> table = (code & 0xFF00) == 0xFE00 ? TwoByteOperands : OneByteOperands;
        int index = code & 0xFF;
        if ((code & 0xFF00) is not (0 or 0xFE00) || index >= table.Length || table[index] == 0xFF) return null;
        return (OperandType)table[index];
    }

    // OperandType values (InlineNone = 5, InlineMethod = 4, InlineField = 1, ...); 0xFF: no opcode.
    private static ReadOnlySpan<byte> OneByteOperands =>
    [
        5, 5, 5, 5, 5, 5, 5, 5, 5, 5, 5, 5, 5, 5, 18, 18, // 0x00
        18, 18, 18, 18, 5, 5, 5, 5, 5, 5, 5, 5, 5, 5, 5, 16, // 0x10
        2, 3, 17, 7, 0xFF, 5, 5, 4, 4, 9, 5, 15, 15, 15, 15, 15, // 0x20
        15, 15, 15, 15, 15, 15, 15, 15, 0, 0, 0, 0, 0, 0, 0, 0, // 0x30
        0, 0, 0, 0, 0, 11, 5, 5, 5, 5, 5, 5, 5, 5, 5, 5, // 0x40
        5, 5, 5, 5, 5, 5, 5, 5, 5, 5, 5, 5, 5, 5, 5, 5, // 0x50
        5, 5, 5, 5, 5, 5, 5, 5, 5, 5, 5, 5, 5, 5, 5, 4, // 0x60
        13, 13, 10, 4, 13, 13, 5, 0xFF, 0xFF, 13, 5, 1, 1, 1, 1, 1, // 0x70
        1, 13, 5, 5, 5, 5, 5, 5, 5, 5, 5, 5, 13, 13, 5, 13, // 0x80
        5, 5, 5, 5, 5, 5, 5, 5, 5, 5, 5, 5, 5, 5, 5, 5, // 0x90
        5, 5, 5, 13, 13, 13, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, // 0xA0
        0xFF, 0xFF, 0xFF, 5, 5, 5, 5, 5, 5, 5, 5, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, // 0xB0
        0xFF, 0xFF, 13, 5, 0xFF, 0xFF, 13, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, // 0xC0
        12, 5, 5, 5, 5, 5, 5, 5, 5, 5, 5, 5, 5, 0, 15, 5, // 0xD0
        5, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, // 0xE0
        0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 5, 5, 5, 5, 5, 5, 5, 5, // 0xF0
    ];

    private static ReadOnlySpan<byte> TwoByteOperands =>
    [
        5, 5, 5, 5, 5, 5, 4, 4, 0xFF, 14, 14, 14, 14, 14, 14, 5, // 0x00
        0xFF, 5, 16, 5, 5, 13, 13, 5, 5, 0xFF, 5, 0xFF, 13, 5, 5, // 0x10
    ];
}
