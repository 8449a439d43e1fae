using System.Buffers.Binary;
using System.Collections;
using System.Reflection;
using System.Runtime.Serialization;
using System.Text;

namespace Multiprocessing.Serialization;

/// <summary>
/// Writes the cold-cheap encoding: a tag byte per value, little-endian scalars, types by
/// assembly-qualified name (each written once, then by index), shared references once. Keeps a
/// path of where it is ("args[1] → field 'conn'") so a refusal can name the member.
/// </summary>
internal sealed class ObjectWriter
{
    private readonly MemoryStream _out = new();
    private readonly Dictionary<Type, int> _types = [];
    private readonly Dictionary<object, int> _refs = new(ReferenceEqualityComparer.Instance);
    // Segments are strings, or an int for an element index, formatted only if a refusal needs the path.
    private readonly List<object> _path = [];
    private readonly IReadOnlyList<TypeCodec> _codecs;
    private readonly HashSet<Type> _writtenClosureTypes = [];

    internal ObjectWriter(IReadOnlyList<TypeCodec> codecs, SerializationPurpose purpose, ClosureAnalyzer analyzer)
    {
        _codecs = codecs;
        Purpose = purpose;
        Analyzer = analyzer;
    }

    public SerializationPurpose Purpose { get; }
    public ClosureAnalyzer Analyzer { get; }

    /// <summary>
    /// True when closure analysis learned about a field of a type already written with fewer
    /// fields: the caller must serialize again with the now-complete analysis.
    /// </summary>
    public bool NeedsRetry { get; private set; }

    public byte[] ToArray() => _out.ToArray();

    /// <summary>Descriptors the receiving process must inherit for this payload (connections passed to a child).</summary>
    public IReadOnlyList<int> InheritedDescriptors => _inherited;
    private readonly List<int> _inherited = [];

    /// <summary>
    /// Records that <paramref name="fd"/> must be inherited by the child being started, and writes
    /// its number (a spawned child sees it under the same number). Only a process start can
    /// carry a descriptor.
    /// </summary>
    public void WriteInheritedDescriptor(int fd, Type ownerType)
    {
        if (Purpose != SerializationPurpose.ProcessStart)
            throw Refuse(ownerType, "it holds an operating-system handle, which can only be passed to a child as part of starting it");
        if (!_inherited.Contains(fd)) _inherited.Add(fd);
        WriteInt32Raw(fd);
    }

    public void PushPath(string segment) => _path.Add(segment);
    private void PushIndex(int index) => _path.Add(index);
    public void PopPath() => _path.RemoveAt(_path.Count - 1);
    public string CurrentPath => _path.Count == 0 ? "the value" : string.Join(" → ", _path.Select(p => p is int i ? $"[{i}]" : (string)p));

    public void WriteByte(byte b) => _out.WriteByte(b);
    public void WriteTag(Tag tag) => _out.WriteByte((byte)tag);

    public void WriteVarUInt(ulong value)
    {
        while (value >= 0x80) { _out.WriteByte((byte)(value | 0x80)); value >>= 7; }
        _out.WriteByte((byte)value);
    }

    public void WriteInt32Raw(int value)
    {
        Span<byte> b = stackalloc byte[4];
        BinaryPrimitives.WriteInt32LittleEndian(b, value);
        _out.Write(b);
    }

    public void WriteInt64Raw(long value)
    {
        Span<byte> b = stackalloc byte[8];
        BinaryPrimitives.WriteInt64LittleEndian(b, value);
        _out.Write(b);
    }

    public void WriteRawBytes(ReadOnlySpan<byte> bytes)
    {
        WriteVarUInt((ulong)bytes.Length);
        _out.Write(bytes);
    }

    public void WriteStringRaw(string s)
    {
        int max = Encoding.UTF8.GetMaxByteCount(s.Length);
        byte[] buffer = max <= 4096 ? new byte[max] : Encoding.UTF8.GetBytes(s);
        int n = max <= 4096 ? Encoding.UTF8.GetBytes(s, buffer) : buffer.Length;
        WriteRawBytes(buffer.AsSpan(0, n));
    }

    /// <summary>Assembly-qualified names, built once per type: RuntimeType builds the string on every call.</summary>
    private static readonly System.Collections.Concurrent.ConcurrentDictionary<Type, string> s_names = new();

    public void WriteType(Type type)
    {
        if (_types.TryGetValue(type, out int index)) { WriteVarUInt((ulong)index + 1); return; }
        if (type.IsGenericParameter || type.ContainsGenericParameters || type.AssemblyQualifiedName is null)
            throw Refuse(type, "it is an open generic type");
        WriteVarUInt(0);
        WriteStringRaw(s_names.GetOrAdd(type, static t => t.AssemblyQualifiedName!));
        _types[type] = _types.Count;
    }

    public void WriteValue(object? value)
    {
        switch (value)
        {
            case null: WriteTag(Tag.Null); return;
            case bool b: WriteTag(b ? Tag.True : Tag.False); return;
            case int i: WriteTag(Tag.Int32); WriteInt32Raw(i); return;
            case long l: WriteTag(Tag.Int64); WriteInt64Raw(l); return;
            case double d: WriteTag(Tag.Double); WriteInt64Raw(BitConverter.DoubleToInt64Bits(d)); return;
            case string s: WriteTag(Tag.String); WriteStringRaw(s); return;
            case byte[] bytes: WriteTag(Tag.Bytes); WriteRawBytes(bytes); return;
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
                Span<byte> gb = stackalloc byte[16];
                g.TryWriteBytes(gb);
                _out.Write(gb);
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
        if (TypeRules.IsFieldwise(type)) { WriteFieldwise(value, type, null); return; }
        WriteFallback(value, type);
    }

    private void WriteArray(Array array, Type type)
    {
        if (array.Rank != 1 || array.GetLowerBound(0) != 0)
            throw Refuse(type, "only single-dimensional, zero-based arrays can be sent");
        WriteTag(Tag.Array); WriteType(type.GetElementType()!);
        WriteVarUInt((ulong)array.Length);
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
        WriteTag(Tag.Dictionary); WriteType(type);
        WriteVarUInt((ulong)dict.Count);
        foreach (DictionaryEntry e in dict)
        {
            PushPath($"[{e.Key}]");
            WriteValue(e.Key);
            WriteValue(e.Value);
            PopPath();
        }
    }

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
        if (closure) _writtenClosureTypes.Add(type);
        var fields = new List<FieldInfo>();
        foreach (FieldInfo f in TypeRules.FieldsOf(type, stopAt))
        {
            if (!onlyUsed || Analyzer.UsedFields.Contains(f)) fields.Add(f);
        }
        WriteVarUInt((ulong)fields.Count);
        foreach (FieldInfo f in fields)
        {
            PushPath(closure ? $"captured variable '{DisplayFieldName(f)}'" : $"field '{DisplayFieldName(f)}'");
            WriteStringRaw(f.DeclaringType == type ? f.Name : f.DeclaringType!.Name + "::" + f.Name);
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
            int growBefore = Analyzer.UsedFields.Count;
            Analyzer.Analyze(method);
            if (Analyzer.UsedFields.Count != growBefore)
            {
                foreach (FieldInfo f in Analyzer.UsedFields)
                    if (f.DeclaringType is { } t && _writtenClosureTypes.Contains(t)) NeedsRetry = true;
            }
            WriteType(method.DeclaringType);
            WriteInt32Raw(method.MetadataToken);
            Type[] generic = method.IsGenericMethod ? method.GetGenericArguments() : [];
            WriteVarUInt((ulong)generic.Length);
            foreach (Type g in generic) WriteType(g);

            object? target = d.Target;
            if (target is not null && ClosureAnalyzer.IsCompilerGenerated(target.GetType()) &&
                target.GetType().GetField("<>9", BindingFlags.Static | BindingFlags.Public | BindingFlags.NonPublic)?.GetValue(null) == target)
            {
                // A non-capturing lambda: its target is the compiler's stateless singleton.
                WriteByte(2);
                continue;
            }
            WriteByte(target is null ? (byte)0 : (byte)1);
            if (target is not null)
            {
                PushPath(ClosureAnalyzer.IsCompilerGenerated(target.GetType()) ? $"closure of '{method.Name}'" : $"target of '{method.Name}'");
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
