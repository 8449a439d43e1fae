using System.Reflection;

namespace Multiprocessing.Serialization;

/// <summary>
/// Types and methods named in a payload, found in this process: by assembly simple name and
/// metadata token, checked against the written name. Shared by <see cref="ObjectReader"/> and
/// the plain start's bootstrap (<see cref="PlainStart"/>).
/// </summary>
internal static class TypeResolver
{
    /// <summary>
    /// Finds the type by its assembly's simple name: a loaded assembly first, else the loader. No
    /// version binding, which an assembly-qualified name would ask for: parent and child run
    /// the same application, and the child's load context has one version of each assembly.
    /// Then by metadata token, checked against the name: a lookup by name parses it, which
    /// compiled a dozen generic search helpers in every child.
    /// </summary>
    internal static Type Resolve(string assemblyName, string typeName, int token)
    {
        Assembly? assembly = FindLoaded(assemblyName);
        try
        {
            assembly ??= Assembly.Load(new AssemblyName { Name = assemblyName });
            return ResolveToken(assembly.ManifestModule, token, typeName) ?? assembly.GetType(typeName, throwOnError: false)
                ?? throw NotInAssembly(assemblyName, typeName);
        }
        catch (Exception e) when (e is FileNotFoundException or FileLoadException or ArgumentException or BadImageFormatException or TypeLoadException)
        {
            throw CannotLoad(assemblyName, typeName, e);
        }
    }

    /// <summary>
    /// The loaded assembly with this simple name, or null: matched on the display name, which the
    /// runtime computes once per assembly (no AssemblyName is built or parsed).
    /// </summary>
    internal static Assembly? FindLoaded(string simpleName)
    {
        foreach (Assembly loaded in AppDomain.CurrentDomain.GetAssemblies())
        {
            string? full = loaded.FullName;
            if (full is not null && full.Length > simpleName.Length && full[simpleName.Length] == ',' && StartsWith(full, simpleName))
                return loaded;
        }
        return null;
    }

    /// <summary>
    /// Ordinal, by hand: <c>StartsWith</c> and <c>Equals</c> with a <see cref="StringComparison"/>
    /// switch over it through a jump table in CoreLib's image, a 64 KiB window of it that nothing
    /// else on a child's start path reads (EmptyInts says what a window costs).
    /// </summary>
    private static bool StartsWith(string text, string prefix)
    {
        for (int i = 0; i < prefix.Length; i++)
        {
            if (text[i] != prefix[i]) return false;
        }
        return true;
    }

    /// <summary>
    /// The instance field that <paramref name="type"/> itself declares with this metadata token,
    /// else the one with this name, else null. By token first, as methods are found: in a cold
    /// child the first lookup by name cost ~3.2 ms (and reading a field's <c>Name</c> ~4 ms: it
    /// decodes the metadata's UTF-8, whose first use is that slow here), the token ~0.9 ms. The
    /// token is taken when it names an instance field of this very type; a constructed generic
    /// type's fields, and tokens from a different build of the assembly that name no such field,
    /// go by name.
    /// </summary>
    internal static FieldInfo? FindInstanceField(Type type, string name, int token)
    {
        // Only a FieldDef token (table 0x04): a MemberRef would be resolved in another assembly.
        if (!type.IsGenericType && (uint)token >> 24 == 0x04)
        {
            try
            {
                if (type.Module.ResolveField(token) is { IsStatic: false } field && field.DeclaringType == type) return field;
            }
            catch (Exception e) when (e is ArgumentException or BadImageFormatException) { } // no such row (ArgumentOutOfRangeException)
        }
        return type.GetField(name, TypeRules.InstanceFields);
    }

    /// <summary>
    /// A delegate of <paramref name="delegateType"/> over <paramref name="method"/>, closed over
    /// <paramref name="target"/> unless the method is static; a mismatch is a corrupt payload.
    /// </summary>
    internal static Delegate CreateDelegate(MethodInfo method, Type delegateType, object? target)
    {
        try
        {
            return method.IsStatic ? method.CreateDelegate(delegateType) : method.CreateDelegate(delegateType, target);
        }
        catch (ArgumentException e)
        {
            throw ByteCursor.Corrupt(e.Message, e);
        }
    }

    private static Type? ResolveToken(Module module, int token, string expectedName)
    {
        try
        {
            Type found = module.ResolveType(token);
            return found.FullName == expectedName ? found : null; // ordinal, without a StringComparison: StartsWith above says why
        }
        catch (Exception e) when (e is ArgumentException or TypeLoadException or BadImageFormatException)
        {
            return null;
        }
    }

    internal static MethodInfo FindMethod(Type declaring, int token, Type[] generic)
    {
        // By token, like the named types: listing the type's methods to find one built a
        // MethodInfo for each. The declaring type check keeps a token from a different build honest.
        MethodInfo? method = null;
        try
        {
            method = declaring.Module.ResolveMethod(token) as MethodInfo;
            // A method of a constructed generic type (a lambda in a generic method lives in
            // <>c<T>): the token names the definition's method, so take it on the constructed type.
            if (method is not null && declaring.IsConstructedGenericType && method.DeclaringType == declaring.GetGenericTypeDefinition())
                method = MethodBase.GetMethodFromHandle(method.MethodHandle, declaring.TypeHandle) as MethodInfo;
        }
        catch (Exception e) when (e is ArgumentException or TypeLoadException or BadImageFormatException or MissingMethodException) { }
        if (method is null || method.DeclaringType != declaring)
            throw NoSuchMethod(declaring, token);
        return generic.Length > 0 ? MakeGenericMethod(method, generic) : method;
    }

    private static MethodInfo MakeGenericMethod(MethodInfo method, Type[] generic)
    {
        try { return method.MakeGenericMethod(generic); }
        catch (Exception e) when (e is ArgumentException or InvalidOperationException) { throw ByteCursor.Corrupt(method.Name + " cannot take those type arguments", e); }
    }

    // Out of line: a ReadyToRun method loads every type it names when first entered, and this
    // type's methods are on a spawned child's start path, which never throws.
    private static InvalidDataException NotInAssembly(string assemblyName, string typeName) =>
        new($"type '{typeName}' is not in assembly '{assemblyName}' in this process; the child must load the same build of the application as the parent");

    private static InvalidDataException CannotLoad(string assemblyName, string typeName, Exception e) =>
        new($"type '{typeName}' cannot be loaded in this process: assembly '{assemblyName}' cannot be loaded ({e.Message}); the child must be able to load the same assemblies as the parent", e);

    private static InvalidDataException NoSuchMethod(Type declaring, int token) =>
        new($"method token 0x{token:x8} not found on {declaring.FullName}; the child loaded a different build of that assembly");
}
