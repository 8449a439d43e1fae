using System.Reflection;
using Multiprocessing.Serialization;

namespace Multiprocessing;

/// <summary>
/// The writing half: a plain start whose target is a lambda over a compiler-made closure whose
/// used captures are all strings, <c>int</c>, <c>long</c>, <c>bool</c> or <c>double</c>, with no
/// arguments, written from a per-lambda template. The bytes are those the general writer makes
/// (tests compare the two), so either reader takes them. Timestamps in a forkserver start put
/// the general writer at ~65 µs of the ~0.3 ms from <c>Start()</c> to the payload's write for such
/// a lambda (type switch, reference table, delegate checks, closure analysis lookups, field list).
/// </summary>
internal static partial class PlainStart
{
    private static readonly SyncCache<MethodInfo, ClosureShape> s_shapes = new(ReferenceEqualityComparer.Instance);

    /// <summary>The object[0] of arguments and the null of keyword arguments that end every plain start.</summary>
    private static readonly byte[] s_noArguments = MakeNoArguments();

    /// <summary>The start's payload, or null when it is not this shape (the general writer then writes it).</summary>
    internal static byte[]? TryEncode(ProcessPayload.Header header, Process process, Delegate? target, object?[] args,
                                      IReadOnlyDictionary<string, object?> kwargs)
    {
        // A lambda that captures nothing is closed over the compiler's <>c singleton, which the
        // general writer does not send (and which PlainStart already reads without the serializer).
        if (target is null || target.GetType() != typeof(Action) || !target.HasSingleTarget || target.Target is not { } closure ||
            ClosureAnalyzer.IsStatelessSingleton(closure) || args.Length != 0 || kwargs.Count != 0 || process.GetType() != typeof(Process))
            return null;
        ClosureShape shape = s_shapes.GetOrAdd(target.Method, ClosureShape.Of);
        if (shape.Fields is not { } fields || closure.GetType() != shape.Type) return null;
        ObjectWriter w = Writer();
        w.WriteByte(BinarySerializer.FormatVersion);
        ProcessPayload.WriteHeader(w, header, plain: true);
        w.WriteVerbatim(shape.Prefix);
        for (int i = 0; i < fields.Length; i++)
        {
            w.WriteVerbatim(shape.Names[i]);
            w.WriteValue(fields[i].GetValue(closure)); // a string, null or a simple number: the top of the writer's switch
        }
        w.WriteVerbatim(s_noArguments);
        return w.ToArray();
    }

    private static byte[] MakeNoArguments()
    {
        var w = Writer();
        w.WriteValue(Array.Empty<object?>());
        w.WriteValue(null);
        return w.ToArray();
    }

    /// <summary>A writer without codecs: the template's parts and the payload are simple values only.</summary>
    private static ObjectWriter Writer() => new([], SerializationPurpose.ProcessStart, null);

    private static bool IsSimple(Type t) => t == typeof(string) || t == typeof(int) || t == typeof(long) || t == typeof(bool) || t == typeof(double);

    /// <summary>
    /// What the general writer writes for one lambda before and between its captured values
    /// (<see cref="ObjectWriter"/>'s delegate, then the closure object field by field), or no
    /// <see cref="Fields"/> when the lambda is not this shape.
    /// </summary>
    private sealed record ClosureShape(Type? Type, byte[] Prefix, FieldInfo[]? Fields, byte[][] Names)
    {
        private static readonly ClosureShape None = new(null, [], null, []);

        internal static ClosureShape Of(MethodInfo method)
        {
            Type? type = method.DeclaringType;
            if (type is null || method.IsGenericMethod || type.IsGenericType || type.IsValueType || type.Assembly.IsDynamic ||
                !ClosureAnalyzer.IsCompilerGenerated(type) || TypeRules.WhyProcessLocal(type) is not null || !TypeRules.IsFieldwise(type))
                return None;
            var analyzer = new ClosureAnalyzer();
            analyzer.Analyze(method);
            var fields = new List<FieldInfo>();
            foreach (FieldInfo f in TypeRules.FieldsOf(type))
            {
                if (!analyzer.UsedFields.Contains(f)) continue;
                if (f.DeclaringType != type || !IsSimple(f.FieldType)) return None;
                fields.Add(f);
            }

            ObjectWriter prefix = Writer();
            prefix.WriteTag(Tag.Delegate);
            prefix.WriteType(typeof(Action));
            prefix.WriteVarUInt(1); // one method in the invocation list
            prefix.WriteType(type);
            prefix.WriteInt32Raw(method.MetadataToken);
            prefix.WriteVarUInt(0); // no generic arguments
            prefix.WriteByte(1); // the target follows
            prefix.WriteTag(Tag.Object);
            prefix.WriteType(type); // now the payload's first session code
            prefix.WriteVarUInt((ulong)fields.Count);
            var names = new byte[fields.Count][];
            for (int i = 0; i < names.Length; i++)
            {
                ObjectWriter name = Writer();
                name.WriteStringRaw(fields[i].Name);
                name.WriteInt32Raw(fields[i].MetadataToken);
                names[i] = name.ToArray();
            }
            return new ClosureShape(type, prefix.ToArray(), [.. fields], names);
        }
    }
}
