using System.Reflection;

namespace Multiprocessing;

/// <summary>
/// CPython's <c>target(*args, **kwargs)</c> for a .NET delegate: positional arguments first,
/// keyword arguments by parameter name, optional parameters defaulted. Checked in the parent
/// at <c>Start()</c>, so a bad call fails there with Python's wording rather than in the child.
/// </summary>
internal static class ArgumentBinder
{
    internal static object?[] Bind(Delegate target, object?[] args, IReadOnlyDictionary<string, object?> kwargs)
    {
        // The common start (an Action, nothing passed) binds to nothing: its checks below, and the
        // name they would report, were a list, two arrays and a string on the way to every child,
        // and reading the parameters cost a program's first start ~1.5 ms of cold reflection.
        if (target is Action && args.Length == 0 && kwargs.Count == 0) return [];
        MethodInfo method = target.Method;
        ParameterInfo[] all = method.GetParameters();
        if (all.Length == 0 && args.Length == 0 && kwargs.Count == 0) return [];
        // A static method closed over its first argument (an extension method delegate).
        ParameterInfo[] ps = method.IsStatic && target.Target is not null && all.Length > 0 ? all[1..] : all;
        string fn = DisplayName(method) + "()";
        if (args.Length > ps.Length)
            throw new ArgumentException($"{fn} takes {ps.Length} positional argument{(ps.Length == 1 ? "" : "s")} but {args.Length} {(args.Length == 1 ? "was" : "were")} given");

        var bound = new object?[ps.Length];
        var set = new bool[ps.Length];
        for (int i = 0; i < args.Length; i++) { bound[i] = args[i]; set[i] = true; }
        foreach ((string key, object? value) in kwargs)
        {
            int index = Array.FindIndex(ps, p => p.Name == key);
            if (index < 0) throw new ArgumentException($"{fn} got an unexpected keyword argument '{key}'");
            if (set[index]) throw new ArgumentException($"{fn} got multiple values for argument '{key}'");
            bound[index] = value;
            set[index] = true;
        }
        var missing = new List<string>();
        for (int i = 0; i < ps.Length; i++)
        {
            ParameterInfo p = ps[i];
            if (p.ParameterType.IsByRef)
                throw new ArgumentException($"{fn}: parameter '{p.Name}' is passed by reference, which cannot cross a process boundary");
            if (!set[i])
            {
                if (p.HasDefaultValue) bound[i] = p.DefaultValue is DBNull ? Type.Missing : p.DefaultValue;
                else if (p.IsDefined(typeof(ParamArrayAttribute))) bound[i] = Array.CreateInstance(p.ParameterType.GetElementType()!, 0);
                else missing.Add($"'{p.Name}'");
                continue;
            }
            object? v = bound[i];
            Type t = p.ParameterType;
            bool ok = v is null ? !t.IsValueType || Nullable.GetUnderlyingType(t) is not null : t.IsInstanceOfType(v);
            if (!ok)
                throw new ArgumentException($"{fn} argument '{p.Name}' must be {t.Name}, not {(v is null ? "null" : v.GetType().Name)}");
        }
        if (missing.Count > 0)
            throw new ArgumentException($"{fn} missing {missing.Count} required argument{(missing.Count == 1 ? "" : "s")}: {string.Join(" and ", missing)}");
        return bound;
    }

    private static string DisplayName(MethodInfo m)
    {
        string n = m.Name;
        if (n.StartsWith('<') && n.IndexOf('>') is > 1 and var end) return n[1..end] + "<lambda>"; // <Main>b__0_0
        return n;
    }
}
