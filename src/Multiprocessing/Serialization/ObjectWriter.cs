using System.Buffers.Binary;
using System.Collections;
using System.Reflection;
using System.Runtime.CompilerServices;
using System.Runtime.Serialization;
using System.Text;

namespace Multiprocessing.Serialization;

/// <summary>
/// Writes the cold-cheap encoding: a tag byte per value, little-endian scalars, types as
/// <see cref="WellKnownTypes"/> describes (codes for built-in types, other named types once per
/// payload and then by session code), shared references once. Keeps a path of where it is
/// ("args[1] → field 'conn'") so a refusal can name the member.
/// </summary>
internal sealed class ObjectWriter
{
    private byte[] _buffer = new byte[256];
    private int _length;
    private Dictionary<Type, int>? _types;
    private readonly Dictionary<object, int> _refs = new(ReferenceEqualityComparer.Instance);
    // Formatted only if a refusal needs the path: building "[3]" or "[key]" per element cost more than writing it.
    private PathSegment[] _path = new PathSegment[8];
    private int _depth;
    private readonly TypeCodec[] _codecs;
    private HashSet<Type>? _writtenClosureTypes;
    private ClosureAnalyzer? _analyzer;

    internal ObjectWriter(TypeCodec[] codecs, SerializationPurpose purpose, ClosureAnalyzer? analyzer)
    {
        _codecs = codecs;
        Purpose = purpose;
        _analyzer = analyzer;
    }

    public SerializationPurpose Purpose { get; }

    /// <summary>Created at the first delegate: most messages hold none.</summary>
    public ClosureAnalyzer Analyzer => _analyzer ??= new ClosureAnalyzer();

    /// <summary>The analyzer if a delegate needed one, to carry into a retry.</summary>
    internal ClosureAnalyzer? AnalyzerIfCreated => _analyzer;

    /// <summary>
    /// True when closure analysis learned about a field of a type already written with fewer
    /// fields: the caller must serialize again with the now-complete analysis.
    /// </summary>
    public bool NeedsRetry { get; private set; }

    public byte[] ToArray() => _buffer.AsSpan(0, _length).ToArray();

    /// <summary>Descriptors the receiving process must inherit for this payload (connections passed to a child).</summary>
    public IReadOnlyList<int> InheritedDescriptors => _inherited ?? (IReadOnlyList<int>)[];
    private List<int>? _inherited;

    /// <summary>
    /// Records that <paramref name="fd"/> must be inherited by the child being started, and writes
    /// its number (a spawned child sees it under the same number). Only a process start can
    /// carry a descriptor.
    /// </summary>
    public void WriteInheritedDescriptor(int fd, Type ownerType)
    {
        if (Purpose != SerializationPurpose.ProcessStart)
            throw Refuse(ownerType, "it holds an operating-system handle, which can only be passed to a child as part of starting it");
        _inherited ??= [];
        if (!_inherited.Contains(fd)) _inherited.Add(fd);
        WriteInt32Raw(fd);
    }

    private enum PathKind : byte { Text, Index, Key, Field, CapturedVariable, DelegateTarget, Closure }

    /// <summary>One step of the path, formatted only if a refusal names it.</summary>
    private readonly record struct PathSegment(PathKind Kind, string? Text, object? Key, int Index, MemberInfo? Member)
    {
        public override string ToString() => Kind switch
        {
            PathKind.Text => Text!,
            PathKind.Index => $"[{Index}]",
            PathKind.Key => $"[{Key}]",
            PathKind.Field => $"field '{DisplayFieldName((FieldInfo)Member!)}'",
            PathKind.CapturedVariable => $"captured variable '{DisplayFieldName((FieldInfo)Member!)}'",
            PathKind.Closure => $"closure of '{Member!.Name}'",
            _ => $"target of '{Member!.Name}'",
        };
    }

    public void PushPath(string segment) => Push(new PathSegment(PathKind.Text, segment, null, 0, null));
    private void PushIndex(int index) => Push(new PathSegment(PathKind.Index, null, null, index, null));
    private void PushKey(object key) => Push(new PathSegment(PathKind.Key, null, key, 0, null));
    private void PushMember(PathKind kind, MemberInfo member) => Push(new PathSegment(kind, null, null, 0, member));

    private void Push(PathSegment segment)
    {
        if (_depth == _path.Length) Array.Resize(ref _path, _depth * 2);
        _path[_depth++] = segment;
    }

    public void PopPath() => _depth--;
    public string CurrentPath => _depth == 0 ? "the value" : string.Join(" → ", _path.Take(_depth));

    private Span<byte> Grow(int count)
    {
        if (_buffer.Length - _length < count)
            Array.Resize(ref _buffer, (int)Math.Min(Array.MaxLength, Math.Max((long)_buffer.Length * 2, (long)_length + count)));
        Span<byte> span = _buffer.AsSpan(_length, count);
        _length += count;
        return span;
    }

    public void WriteByte(byte b) => Grow(1)[0] = b;
    public void WriteTag(Tag tag) => WriteByte((byte)tag);

    public void WriteVarUInt(ulong value)
    {
        while (value >= 0x80) { WriteByte((byte)(value | 0x80)); value >>= 7; }
        WriteByte((byte)value);
    }

    public void WriteInt32Raw(int value) => BinaryPrimitives.WriteInt32LittleEndian(Grow(4), value);

    public void WriteInt64Raw(long value) => BinaryPrimitives.WriteInt64LittleEndian(Grow(8), value);

    /// <summary>Appends bytes another writer made (a template), without a length.</summary>
    public void WriteVerbatim(ReadOnlySpan<byte> bytes) => bytes.CopyTo(Grow(bytes.Length));

    public void WriteRawBytes(ReadOnlySpan<byte> bytes)
    {
        WriteVarUInt((ulong)bytes.Length);
        bytes.CopyTo(Grow(bytes.Length));
    }

    public void WriteStringRaw(string s)
    {
        int n = Encoding.UTF8.GetByteCount(s);
        WriteVarUInt((ulong)n);
        Encoding.UTF8.GetBytes(s, Grow(n));
    }

    /// <summary>How each named type is written, built once: the names are computed strings.</summary>
    private static readonly SyncCache<Type, NamedType> s_names = new(ReferenceEqualityComparer.Instance);

    /// <summary>A named type's encoding (the Named code, assembly, full name, token), built once: its strings were UTF-8 encoded per payload.</summary>
    private sealed record NamedType(byte[] Encoded);

    private static NamedType EncodeNamed(Type t)
    {
        var w = new ObjectWriter([], SerializationPurpose.Message, null);
        w.WriteVarUInt(WellKnownTypes.Named);
        w.WriteStringRaw(t.Assembly.GetName().Name!);
        w.WriteStringRaw(t.FullName!);
        w.WriteInt32Raw(t.MetadataToken);
        return new NamedType(w.ToArray());
    }

    /// <summary>Writes a type as <see cref="WellKnownTypes"/> describes; each named type once per payload, then its session code.</summary>
    public void WriteType(Type type)
    {
        int known = WellKnownTypes.CodeOf(type, out bool isGeneric);
        if (known >= 0)
        {
            WriteVarUInt((ulong)known);
            if (isGeneric) WriteTypeArguments(type);
            return;
        }
        if (type.IsConstructedGenericType)
        {
            WriteVarUInt(WellKnownTypes.ConstructedGeneric);
            WriteType(type.GetGenericTypeDefinition());
            WriteTypeArguments(type);
            return;
        }
        if (type.IsArray)
        {
            WriteVarUInt(WellKnownTypes.ArrayOf);
            WriteType(type.GetElementType()!);
            WriteVarUInt(type.IsSZArray ? 0u : (ulong)type.GetArrayRank());
            return;
        }
        _types ??= new(ReferenceEqualityComparer.Instance); // by reference, as SyncCache explains
        if (_types.TryGetValue(type, out int index)) { WriteVarUInt((ulong)(WellKnownTypes.FirstSessionCode + index)); return; }
        if (type.IsGenericParameter || type.ContainsGenericParameters && !type.IsGenericTypeDefinition || type.HasElementType || type.FullName is null)
            throw Refuse(type, "it is an open generic type, a pointer or a by-reference type");
        WriteVerbatim(s_names.GetOrAdd(type, EncodeNamed).Encoded);
        _types[type] = _types.Count;
    }

    private void WriteTypeArguments(Type constructed)
    {
        foreach (Type argument in constructed.GetGenericArguments()) WriteType(argument);
    }

    public void WriteValue(object? value)
    {
        if (!RuntimeHelpers.TryEnsureSufficientExecutionStack())
            throw new SerializationException($"maximum recursion depth exceeded while pickling an object: {CurrentPath} is nested too deeply to send (a very long linked chain?); send it as a flat collection");
        switch (value)
        {
            case null: WriteTag(Tag.Null); return;
            case bool b: WriteTag(b ? Tag.True : Tag.False); return;
            case int i: WriteTag(Tag.Int32); WriteInt32Raw(i); return;
            case long l: WriteTag(Tag.Int64); WriteInt64Raw(l); return;
            case double d: WriteTag(Tag.Double); WriteInt64Raw(BitConverter.DoubleToInt64Bits(d)); return;
            case string s: WriteTag(Tag.String); WriteStringRaw(s); return;
            // The runtime lets an sbyte[] pass as a byte[]: without the exact check it came back as one.
            case byte[] bytes when bytes.GetType() == typeof(byte[]): WriteTag(Tag.Bytes); WriteRawBytes(bytes); return;
            case byte u8: WriteTag(Tag.Byte); WriteByte(u8); return;
            case sbyte s8: WriteTag(Tag.SByte); WriteByte((byte)s8); return;
            case short s16: WriteTag(Tag.Int16); WriteInt32Raw(s16); return;
            case ushort u16: WriteTag(Tag.UInt16); WriteInt32Raw(u16); return;
            case uint u32: WriteTag(Tag.UInt32); WriteInt64Raw(u32); return;
            case ulong u64: WriteTag(Tag.UInt64); WriteInt64Raw((long)u64); return;
            case float f: WriteTag(Tag.Single); WriteInt32Raw(BitConverter.SingleToInt32Bits(f)); return;
            case char c: WriteTag(Tag.Char); WriteInt32Raw(c); return;
            case decimal m:
                WriteTag(Tag.Decimal);
                foreach (int part in decimal.GetBits(m)) WriteInt32Raw(part);
                return;
            case DateTime dt: WriteTag(Tag.DateTime); WriteInt64Raw(dt.ToBinary()); return;
            case TimeSpan ts: WriteTag(Tag.TimeSpan); WriteInt64Raw(ts.Ticks); return;
            case Guid g:
                WriteTag(Tag.Guid);
                g.TryWriteBytes(Grow(16));
                return;
            case DateTimeOffset dto:
                WriteTag(Tag.DateTimeOffset); WriteInt64Raw(dto.Ticks); WriteInt64Raw(dto.Offset.Ticks);
                return;
            case Type t: WriteTag(Tag.Type); WriteType(t); return;
        }

        Type type = value.GetType();
        if (type.IsEnum)
        {
            WriteTag(Tag.Enum); WriteType(type);
            WriteInt64Raw(Convert.ToInt64(value, System.Globalization.CultureInfo.InvariantCulture));
            return;
        }
        foreach (TypeCodec codec in _codecs)
        {
            if (codec.CanHandle(type))
            {
                WriteTag(Tag.Custom); WriteStringRaw(codec.Id);
                codec.Write(this, value);
                return;
            }
        }
        if (!type.IsValueType)
        {
            if (_refs.TryGetValue(value, out int id)) { WriteTag(Tag.Ref); WriteVarUInt((ulong)id); return; }
            _refs[value] = _refs.Count;
        }
        if (value is Delegate del) { WriteDelegate(del); return; }
        if (TypeRules.WhyProcessLocal(type) is { } why) throw Refuse(type, why);
        if (type.IsArray) { WriteArray((Array)value, type); return; }
        if (type.IsGenericType && type.GetGenericTypeDefinition() == typeof(List<>)) { WriteList((IList)value, type); return; }
        if (type.IsGenericType && type.GetGenericTypeDefinition() == typeof(Dictionary<,>)) { WriteDictionary((IDictionary)value, type); return; }
        if (type.IsGenericType && type.GetGenericTypeDefinition() == typeof(HashSet<>)) { WriteSet((IEnumerable)value, type); return; }
        if (TypeRules.IsFieldwise(type)) { WriteFieldwise(value, type, null); return; }
        WriteFallback(value, type);
    }

    private void WriteArray(Array array, Type type)
    {
        if (array.Rank != 1 || array.GetLowerBound(0) != 0)
            throw Refuse(type, "only single-dimensional, zero-based arrays can be sent");
        Type element = type.GetElementType()!;
        WriteTag(Tag.Array); WriteType(element);
        WriteVarUInt((ulong)array.Length);
        if (RawArrays.TryGetBytes(array, element, out ReadOnlySpan<byte> raw))
        {
            raw.CopyTo(Grow(raw.Length));
            return;
        }
        if (array is object?[] objects && element == typeof(object))
        {
            for (int i = 0; i < objects.Length; i++)
            {
                PushIndex(i);
                WriteValue(objects[i]);
                PopPath();
            }
            return;
        }
        for (int i = 0; i < array.Length; i++)
        {
            PushIndex(i);
            WriteValue(array.GetValue(i));
            PopPath();
        }
    }

    private void WriteList(IList list, Type type)
    {
        WriteTag(Tag.List); WriteType(type);
        WriteVarUInt((ulong)list.Count);
        for (int i = 0; i < list.Count; i++)
        {
            PushIndex(i);
            WriteValue(list[i]);
            PopPath();
        }
    }

    private void WriteDictionary(IDictionary dict, Type type)
    {
        // The comparer travels too: a case-insensitive table must not arrive case-sensitive.
        object? comparer = KeyComparers.Of(dict, type);
        WriteTag(comparer is null ? Tag.Dictionary : Tag.ComparedDictionary); WriteType(type);
        if (comparer is not null) WriteComparer(comparer, type);
        WriteVarUInt((ulong)dict.Count);
        foreach (DictionaryEntry e in dict)
        {
            PushKey(e.Key);
            WriteValue(e.Key);
            WriteValue(e.Value);
            PopPath();
        }
    }

    /// <summary>A HashSet natively, as a List: the MessagePack fallback it took before cost a child 50 ms and more to load.</summary>
    private void WriteSet(IEnumerable set, Type type)
    {
        object? comparer = KeyComparers.Of(set, type);
        WriteTag(comparer is null ? Tag.Set : Tag.ComparedSet); WriteType(type);
        if (comparer is not null) WriteComparer(comparer, type);
        int count = (int)type.GetProperty(nameof(HashSet<int>.Count))!.GetValue(set)!;
        WriteVarUInt((ulong)count);
        int i = 0;
        foreach (object? item in set)
        {
            PushIndex(i++);
            WriteValue(item);
            PopPath();
        }
        if (i != count) throw Refuse(type, "it changed while it was being written");
    }

    /// <summary>A well-known comparer by code; another one of the application's own classes as an object.</summary>
    private void WriteComparer(object comparer, Type collection)
    {
        byte code = KeyComparers.CodeOf(comparer);
        WriteByte(code);
        if (code != KeyComparers.ObjectFollows) return;
        if (!TypeRules.IsFieldwise(comparer.GetType()))
            throw Refuse(collection, $"its comparer, a {comparer.GetType().FullName}, is neither a StringComparer nor a class of the application's own that could be sent with it");
        PushPath("comparer");
        WriteValue(comparer);
        PopPath();
    }

    /// <summary>Makes <paramref name="root"/> the payload's first reference without writing it: the reader registers its own twin (<see cref="ObjectReader.RegisterRoot"/>).</summary>
    public void RegisterRoot(object root) => _refs.TryAdd(root, _refs.Count);

    /// <summary>
    /// Writes an object field by field. For a compiler-generated closure only the fields the
    /// analyzed code uses are written; <paramref name="stopAt"/> excludes a base class's fields
    /// (a <c>Process</c> subclass travels without the base's live state).
    /// </summary>
    public void WriteFieldwise(object value, Type type, Type? stopAt)
    {
        if (!type.IsValueType) _refs.TryAdd(value, _refs.Count); // the root of a payload is not registered by WriteValue
        WriteTag(Tag.Object); WriteType(type);
        bool closure = ClosureAnalyzer.IsCompilerGenerated(type);
        bool onlyUsed = closure && Analyzer.AnalyzedTypes.Contains(type);
        if (closure) (_writtenClosureTypes ??= []).Add(type);
        var fields = new List<FieldInfo>();
        foreach (FieldInfo f in TypeRules.FieldsOf(type, stopAt))
        {
            if (!onlyUsed || Analyzer.UsedFields.Contains(f)) fields.Add(f);
        }
        WriteVarUInt((ulong)fields.Count);
        foreach (FieldInfo f in fields)
        {
            PushMember(closure ? PathKind.CapturedVariable : PathKind.Field, f);
            WriteStringRaw(f.DeclaringType == type ? f.Name : f.DeclaringType!.Name + "::" + f.Name);
            WriteInt32Raw(f.MetadataToken);
            WriteValue(f.GetValue(value));
            PopPath();
        }
    }

    internal static string DisplayFieldName(FieldInfo f)
    {
        string n = f.Name;
        if (n == "<>4__this") return "this";
        if (n.StartsWith('<') && n.IndexOf('>') is > 1 and var end) return n[1..end]; // <Name>k__BackingField, <x>5__2
        return n;
    }

    private void WriteDelegate(Delegate del)
    {
        WriteTag(Tag.Delegate); WriteType(del.GetType());
        Delegate[] list = del.GetInvocationList();
        WriteVarUInt((ulong)list.Length);
        foreach (Delegate d in list)
        {
            MethodInfo method = d.Method;
            if (method.DeclaringType is null || method.Module.Assembly.IsDynamic)
                throw Refuse(del.GetType(), $"its method '{method.Name}' was generated at run time (a compiled expression or DynamicMethod) and does not exist in the child");
            object? target = d.Target;
            bool stateless = target is not null && ClosureAnalyzer.IsStatelessSingleton(target);
            // A lambda that captures nothing has no closure to trim: its IL is not read (reading
            // and resolving it cost every program's first start ~2.3 ms).
            if (!stateless)
            {
                int growBefore = Analyzer.UsedFields.Count;
                Analyzer.Analyze(method);
                if (Analyzer.UsedFields.Count != growBefore)
                {
                    foreach (FieldInfo f in Analyzer.UsedFields)
                        if (f.DeclaringType is { } t && _writtenClosureTypes?.Contains(t) == true) NeedsRetry = true;
                }
            }
            WriteType(method.DeclaringType);
            WriteInt32Raw(method.MetadataToken);
            Type[] generic = method.IsGenericMethod ? method.GetGenericArguments() : [];
            WriteVarUInt((ulong)generic.Length);
            foreach (Type g in generic) WriteType(g);

            if (stateless)
            {
                // A non-capturing lambda: its target is the compiler's stateless singleton, which
                // the reader does not fetch (ObjectReader.ReadDelegate: closed over null).
                WriteByte(2);
                continue;
            }
            WriteByte(target is null ? (byte)0 : (byte)1);
            if (target is not null)
            {
                PushMember(ClosureAnalyzer.IsCompilerGenerated(target.GetType()) ? PathKind.Closure : PathKind.DelegateTarget, method);
                WriteValue(target);
                PopPath();
            }
        }
    }

    private void WriteFallback(object value, Type type)
    {
        byte[] data;
        try
        {
            data = MessagePackFallback.Serialize(value, type);
            MessagePackFallback.Deserialize(data, type); // must rebuild here, or it would fail in the child
        }
        catch (Exception e) when (e is not SerializationException)
        {
            throw Refuse(type, "the MessagePack fallback cannot rebuild it: " + (e.InnerException ?? e).Message, e);
        }
        WriteTag(Tag.Fallback); WriteType(type);
        WriteRawBytes(data);
    }

    public SerializationException Refuse(Type type, string why, Exception? inner = null) =>
        new($"cannot pickle '{type.Name}' object: {CurrentPath} is a {type.FullName}, which cannot be sent to another process " +
            $"because {why}. Send plain data instead (numbers, strings, arrays, collections, your own classes or records) " +
            "and create the resource in the child.", inner);
}
