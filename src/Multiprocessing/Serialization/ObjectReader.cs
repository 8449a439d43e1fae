using System.Collections;
using System.Reflection;
using System.Runtime.CompilerServices;

namespace Multiprocessing.Serialization;

/// <summary>
/// Reads what <see cref="ObjectWriter"/> wrote. Every length is checked against what is left,
/// so a corrupt or truncated payload is an <see cref="InvalidDataException"/>, never a huge
/// allocation or a crash.
/// </summary>
internal sealed class ObjectReader
{
    private ByteCursor _in;
    private readonly List<Type> _types = [];
    private readonly List<object> _refs = [];
    private readonly TypeCodec[] _codecs;

    internal ObjectReader(byte[] data, TypeCodec[] codecs)
    {
        _in = new ByteCursor(data);
        _codecs = codecs;
    }

    public bool AtEnd => _in.AtEnd;

    /// <summary>The read position, for a caller that reads a raw layout of its own (the start payload's header).</summary>
    public ref ByteCursor Cursor => ref _in;

    private ReadOnlySpan<byte> Take(int count) => _in.Take(count);

    public byte ReadByte() => _in.ReadByte();

    /// <summary>Reads a descriptor written by <see cref="ObjectWriter.WriteInheritedDescriptor"/>: this process's number for one the parent passed.</summary>
    public int ReadInheritedDescriptor()
    {
        int fd = ReadInt32Raw();
        if (Descriptors is null || !Descriptors.TryTranslate(fd, out int own))
            throw new InvalidDataException($"corrupt payload: descriptor {fd} was not passed to this process");
        return own;
    }

    /// <summary>The descriptors the parent passed at start (set by the child host).</summary>
    public DescriptorTable? Descriptors { get; init; }

    public int ReadInt32Raw() => _in.ReadInt32Raw();

    public long ReadInt64Raw() => _in.ReadInt64Raw();

    public ulong ReadVarUInt() => _in.ReadVarUInt();

    /// <summary>A count that must fit in what is left (each item takes at least one byte).</summary>
    public int ReadCount() => _in.ReadCount();

    public byte[] ReadRawBytes() => _in.ReadRawBytes();

    public string ReadStringRaw() => _in.ReadStringRaw();

    /// <summary>Reads what <see cref="ObjectWriter.WriteType"/> wrote: a code, a named type, or a type built from parts.</summary>
    public Type ReadType() => ReadType(0);

    /// <summary>Deeper than this a type is a corrupt payload, not a stack overflow.</summary>
    private const int MaxTypeDepth = 64;

    private Type ReadType(int depth)
    {
        if (depth > MaxTypeDepth) throw new InvalidDataException($"corrupt payload: a type nested more than {MaxTypeDepth} deep");
        // A code, not a count: it is bounded by the tables, not by the bytes left.
        ulong code = ReadVarUInt();
        switch (code)
        {
            case WellKnownTypes.Named: return ReadNamedType();
            case WellKnownTypes.ConstructedGeneric: return MakeGeneric(ReadType(depth + 1), depth);
            case WellKnownTypes.ArrayOf:
                {
                    Type element = ReadType(depth + 1);
                    ulong rank = ReadVarUInt();
                    try { return rank == 0 ? element.MakeArrayType() : element.MakeArrayType(checked((int)rank)); }
                    catch (Exception e) when (e is ArgumentException or TypeLoadException or NotSupportedException or OverflowException or IndexOutOfRangeException)
                    {
                        throw new InvalidDataException($"corrupt payload: no array of {element} with rank {rank}", e);
                    }
                }
        }
        if (code < (ulong)WellKnownTypes.FirstSessionCode)
        {
            Type known = WellKnownTypes.FromCode((int)code, out bool isGeneric);
            return isGeneric ? MakeGeneric(known, depth) : known;
        }
        ulong index = code - (ulong)WellKnownTypes.FirstSessionCode;
        if (index >= (ulong)_types.Count) throw new InvalidDataException($"corrupt payload: type reference {code} is undefined");
        return _types[(int)index];
    }

    /// <summary>
    /// Constructed generics already made (MakeGenericType validates and looks up on every call),
    /// keyed by the definition followed by the arguments. An explicit comparer, like the caches
    /// keyed by Type: the default one for a key type is made by reflection on first use. In a
    /// holder of its own, like the field cache: a cache made in this class's static constructor
    /// is made by every child, and each cache type is a dozen type loads before its target.
    /// </summary>
    private static class Generics
    {
        internal static readonly SyncCache<Type[], Type> Cache = new(TypeSequenceComparer.Instance);
    }

    /// <summary>Type arrays compared element by element (by reference: a runtime type is one object per type).</summary>
    private sealed class TypeSequenceComparer : IEqualityComparer<Type[]>
    {
        public static readonly TypeSequenceComparer Instance = new();

        public bool Equals(Type[]? x, Type[]? y)
        {
            if (x is null || y is null || x.Length != y.Length) return x == y;
            for (int i = 0; i < x.Length; i++)
            {
                if (!ReferenceEquals(x[i], y[i])) return false;
            }
            return true;
        }

        public int GetHashCode(Type[] parts)
        {
            int hash = 0;
            foreach (Type t in parts) hash = hash * 31 + RuntimeHelpers.GetHashCode(t);
            return hash;
        }
    }

    private Type MakeGeneric(Type definition, int depth)
    {
        if (!definition.IsGenericTypeDefinition) throw new InvalidDataException($"corrupt payload: {definition} is not a generic type definition");
        Type[] parts = new Type[1 + definition.GetGenericArguments().Length];
        parts[0] = definition;
        for (int i = 1; i < parts.Length; i++) parts[i] = ReadType(depth + 1);
        return Generics.Cache.GetOrAdd(parts, static key => CloseGeneric(key[0], key[1..]));
    }

    private static Type CloseGeneric(Type definition, Type[] arguments)
    {
        try { return definition.MakeGenericType(arguments); }
        catch (ArgumentException e) { throw new InvalidDataException($"corrupt payload: {definition.Name} cannot take those type arguments", e); }
    }

    /// <summary>Types already resolved in this process, by assembly simple name and full name.</summary>
    private static readonly SyncCache<string, Type> s_resolved = new(StringComparer.Ordinal);

    private Type ReadNamedType()
    {
        string assembly = ReadStringRaw();
        string name = ReadStringRaw();
        int token = ReadInt32Raw();
        Type type = s_resolved.GetOrAdd(assembly + "\n" + name, _ => TypeResolver.Resolve(assembly, name, token));
        _types.Add(type);
        return type;
    }

    public object? ReadValue()
    {
        // A payload of nested arrays costs three bytes a level: without this a corrupt one could
        // overflow the stack, which kills the process instead of throwing.
        if (!RuntimeHelpers.TryEnsureSufficientExecutionStack())
            throw new InvalidDataException("corrupt payload: values nested too deeply");
        Tag tag = (Tag)ReadByte();
        switch (tag)
        {
            case Tag.Null: return null;
            case Tag.True: return true;
            case Tag.False: return false;
            case Tag.Int32: return ReadInt32Raw();
            case Tag.Int64: return ReadInt64Raw();
            case Tag.Double: return BitConverter.Int64BitsToDouble(ReadInt64Raw());
            case Tag.String: return ReadStringRaw();
            case Tag.Bytes: return ReadRawBytes();
            case Tag.Byte: return ReadByte();
            case Tag.SByte: return (sbyte)ReadByte();
            case Tag.Int16: return (short)ReadInt32Raw();
            case Tag.UInt16: return (ushort)ReadInt32Raw();
            case Tag.UInt32: return (uint)ReadInt64Raw();
            case Tag.UInt64: return (ulong)ReadInt64Raw();
            case Tag.Single: return BitConverter.Int32BitsToSingle(ReadInt32Raw());
            case Tag.Char: return (char)ReadInt32Raw();
            case Tag.Decimal: return new decimal([ReadInt32Raw(), ReadInt32Raw(), ReadInt32Raw(), ReadInt32Raw()]);
            case Tag.DateTime: return DateTime.FromBinary(ReadInt64Raw());
            case Tag.TimeSpan: return new TimeSpan(ReadInt64Raw());
            case Tag.Guid: return new Guid(Take(16));
            case Tag.DateTimeOffset: { long ticks = ReadInt64Raw(); return new DateTimeOffset(ticks, new TimeSpan(ReadInt64Raw())); }
            case Tag.Type: return ReadType();
            case Tag.Enum: { Type t = ReadType(); long v = ReadInt64Raw(); return t.IsEnum ? Enum.ToObject(t, v) : throw new InvalidDataException($"corrupt payload: {t} is not an enum"); }
            case Tag.Ref:
                {
                    ulong id = ReadVarUInt(); // an index into the objects read so far, not a count of bytes
                    return id < (ulong)_refs.Count ? _refs[(int)id] : throw new InvalidDataException($"corrupt payload: object reference {id} is undefined");
                }
            case Tag.Custom:
                {
                    string id = ReadStringRaw();
                    foreach (TypeCodec codec in _codecs)
                        if (codec.Id == id) return codec.Read(this);
                    throw new InvalidDataException($"corrupt payload: no codec '{id}' in this process");
                }
            case Tag.Array: return ReadArray();
            case Tag.List: return ReadList();
            case Tag.Dictionary: return ReadDictionary(compared: false);
            case Tag.ComparedDictionary: return ReadDictionary(compared: true);
            case Tag.Set: return ReadSet(compared: false);
            case Tag.ComparedSet: return ReadSet(compared: true);
            case Tag.Object: return ReadFieldwise(null);
            case Tag.Delegate: return ReadDelegate();
            case Tag.Fallback:
                {
                    Type t = ReadType();
                    object value = MessagePackFallback.Deserialize(ReadRawBytes(), t) ?? throw new InvalidDataException($"corrupt payload: null {t}");
                    return t.IsValueType ? value : Register(value);
                }
            default: throw new InvalidDataException($"corrupt payload: unknown tag {(byte)tag} at offset {_in.Position - 1}");
        }
    }

    private T Register<T>(T value) where T : notnull
    {
        _refs.Add(value);
        return value;
    }

    private int Reserve()
    {
        _refs.Add(null!);
        return _refs.Count - 1;
    }

    private Array ReadArray()
    {
        Type element = ReadType();
        int count = ReadCount();
        if (RawArrays.IsRaw(element, out int size))
        {
            long bytes = (long)count * size;
            if (bytes > _in.Remaining) throw new InvalidDataException($"corrupt payload: {count} × {size}-byte elements exceed the remaining {_in.Remaining} bytes");
            return Register(RawArrays.Create(element, count, Take((int)bytes)));
        }
        if (element == typeof(object))
        {
            var objects = new object?[count];
            Register(objects);
            for (int i = 0; i < count; i++) objects[i] = ReadValue();
            return objects;
        }
        Array array = CreateArray(element, count);
        Register(array);
        for (int i = 0; i < count; i++) array.SetValue(ReadValue(), i);
        return array;
    }

    private static Array CreateArray(Type element, int count)
    {
        try { return Array.CreateInstance(element, count); }
        catch (Exception e) when (e is NotSupportedException or ArgumentException)
        {
            throw new InvalidDataException($"corrupt payload: cannot make an array of {element}", e);
        }
    }

    // Parameterless constructors: Activator caches them, while the (capacity) overload binds by
    // reflection on every call, which cost more than filling a small collection.
    private IList ReadList()
    {
        Type type = ReadCollectionType(typeof(List<>));
        int count = ReadCount();
        var list = type == typeof(List<object>) ? new List<object?>(count) : (IList)Construct(type);
        Register(list);
        for (int i = 0; i < count; i++) list.Add(ReadValue());
        return list;
    }

    private IDictionary ReadDictionary(bool compared)
    {
        Type type = ReadCollectionType(typeof(Dictionary<,>));
        // The writer registered the dictionary before its comparer: keep the reference numbers in step.
        int slot = Reserve();
        IDictionary? dict = compared ? (IDictionary)ConstructWith(type, ReadComparer()) : null;
        int count = ReadCount();
        dict ??= type == typeof(Dictionary<string, object>) ? new Dictionary<string, object?>(count) : (IDictionary)Construct(type);
        _refs[slot] = dict;
        for (int i = 0; i < count; i++)
        {
            object key = ReadValue() ?? throw new InvalidDataException("corrupt payload: null dictionary key");
            dict[key] = ReadValue();
        }
        return dict;
    }

    private object ReadSet(bool compared)
    {
        Type type = ReadCollectionType(typeof(HashSet<>));
        // The writer registered the set before its comparer: keep the reference numbers in step.
        int slot = Reserve();
        SetFiller filler = SetFiller.For(type);
        object set = compared ? ConstructWith(type, ReadComparer()) : filler.Create();
        _refs[slot] = set;
        int count = ReadCount();
        for (int i = 0; i < count; i++) filler.Add(set, ReadValue());
        return set;
    }

    /// <summary>Makes and fills a HashSet&lt;T&gt; without reflection per item.</summary>
    private abstract class SetFiller
    {
        private static readonly SyncCache<Type, SetFiller> s_fillers = new(ReferenceEqualityComparer.Instance);

        internal static SetFiller For(Type setType) => s_fillers.GetOrAdd(setType,
            static t => (SetFiller)Activator.CreateInstance(typeof(Filler<>).MakeGenericType(t.GetGenericArguments()[0]))!);

        internal abstract object Create();
        internal abstract void Add(object set, object? item);

        private sealed class Filler<T> : SetFiller
        {
            internal override object Create() => new HashSet<T>();
            internal override void Add(object set, object? item)
            {
                if (item is not T && item is not null || item is null && default(T) is not null)
                    throw new InvalidDataException($"corrupt payload: {item?.GetType().ToString() ?? "null"} in a HashSet<{typeof(T)}>");
                ((HashSet<T>)set).Add((T)item!);
            }
        }
    }

    private object ReadComparer()
    {
        byte code = ReadByte();
        return code == KeyComparers.ObjectFollows
            ? ReadValue() ?? throw new InvalidDataException("corrupt payload: null comparer")
            : KeyComparers.FromCode(code);
    }

    private static object ConstructWith(Type type, object comparer)
    {
        try
        {
            return Activator.CreateInstance(type, comparer)!;
        }
        catch (MissingMethodException e)
        {
            throw new InvalidDataException($"corrupt payload: a {comparer.GetType()} cannot compare the keys of a {type}", e);
        }
    }

    private Type ReadCollectionType(Type definition)
    {
        Type type = ReadType();
        return type.IsConstructedGenericType && type.GetGenericTypeDefinition() == definition
            ? type
            : throw new InvalidDataException($"corrupt payload: {type} is not a {definition.Name}");
    }

    private static object Construct(Type type) =>
        Activator.CreateInstance(type) ?? throw new InvalidDataException($"corrupt payload: cannot make a {type}");

    /// <summary>Reads an object written field by field; <paramref name="into"/> fills an existing instance.</summary>
    public object ReadFieldwise(object? into)
    {
        Type type = ReadType();
        object obj = into ?? RuntimeHelpers.GetUninitializedObject(type);
        if (!type.IsValueType) Register(obj);
        int count = ReadCount();
        for (int i = 0; i < count; i++)
        {
            string name = ReadStringRaw();
            FieldInfo field = FindField(type, name, ReadInt32Raw());
            field.SetValue(obj, ReadValue());
        }
        return obj;
    }


    /// <summary>The reading side of <see cref="ObjectWriter.RegisterRoot"/>.</summary>
    public void RegisterRoot(object root) => Register(root);

    public void ExpectTag(Tag tag)
    {
        if ((Tag)ReadByte() != tag) throw new InvalidDataException($"corrupt payload: expected {tag} at offset {_in.Position - 1}");
    }

    /// <summary>Fields already found by type, then written name: the read-side twin of <see cref="TypeRules.FieldsOf"/>'s cache.</summary>
    private static class Fields
    {
        internal static readonly SyncCache<Type, SyncCache<string, FieldInfo>> Cache = new(ReferenceEqualityComparer.Instance);
    }

    private static FieldInfo FindField(Type type, string name, int token) =>
        Fields.Cache.GetOrAdd(type, static _ => new(StringComparer.Ordinal)).GetOrAdd(name, n => LookUpField(type, n, token));

    private static FieldInfo LookUpField(Type type, string name, int token)
    {
        int sep = name.IndexOf("::", StringComparison.Ordinal);
        string? owner = sep < 0 ? null : name[..sep];
        string fieldName = sep < 0 ? name : name[(sep + 2)..];
        for (Type? t = type; t is not null; t = t.BaseType)
        {
            if (owner is not null && t.Name != owner) continue;
            // The token is the declaring type's: an unqualified name's is the object type's own,
            // and in a base class's module it would name some other row (0 is no FieldDef token).
            if (TypeResolver.FindInstanceField(t, fieldName, owner is null && t != type ? 0 : token) is { } f) return f;
        }
        throw new InvalidDataException($"field '{name}' not found on {type.FullName}; the child loaded a different build of that type");
    }

    private Delegate ReadDelegate()
    {
        Type delegateType = ReadType();
        int slot = Reserve();
        int count = ReadCount();
        Delegate? result = null;
        for (int i = 0; i < count; i++)
        {
            Type declaring = ReadType();
            int token = ReadInt32Raw();
            int genericCount = ReadCount();
            Type[] generic = new Type[genericCount];
            for (int g = 0; g < genericCount; g++) generic[g] = ReadType();
            MethodInfo method = TypeResolver.FindMethod(declaring, token, generic);
            byte targetKind = ReadByte();
            object? target = targetKind switch
            {
                0 => null,
                1 => ReadValue(),
                // A capture-free lambda: an instance method of the compiler's stateless <>c class,
                // which never reads `this`. Closed over null rather than over <>c.<>9: fetching the
                // singleton ran <>c's static constructor and constructor (two JIT compilations) and
                // a field lookup, 0.4–2.3 ms of a spawned child's decode in timestamped runs. Only
                // Delegate.Target differs (null, as for a static method); <>c's static constructor
                // still runs if the lambda touches its statics (a nested cached lambda). Not for a
                // generic <>c<T>, whose Delegate.Method asks the target for its exact type.
                2 => declaring.IsGenericType
                    ? declaring.GetField("<>9", BindingFlags.Static | BindingFlags.Public | BindingFlags.NonPublic)?.GetValue(null)
                    : null,
                _ => throw new InvalidDataException($"corrupt payload: delegate target kind {targetKind}"),
            };
            Delegate d = TypeResolver.CreateDelegate(method, delegateType, target);
            result = result is null ? d : Delegate.Combine(result, d);
        }
        _refs[slot] = result ?? throw new InvalidDataException("corrupt payload: empty delegate");
        return result;
    }
}
