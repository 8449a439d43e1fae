namespace Multiprocessing.Spawning;

/// <summary>How a child comes to exist. Every method yields the same <see cref="ChildHandle"/>.</summary>
internal interface IStartMethod
{
    /// <summary>CPython's name: "spawn", "forkserver".</summary>
    string Name { get; }

    /// <summary>
    /// Starts a child and sends it <paramref name="bootstrap"/>; the child also receives
    /// <paramref name="descriptors"/> under the same numbers. <paramref name="target"/> is the
    /// method the child will run, if any (a hint: forkserver compiles recent ones in its spares).
    /// Throws synchronously if no child could be started.
    /// </summary>
    ChildHandle Launch(byte[] bootstrap, IReadOnlyList<int> descriptors, System.Reflection.MethodInfo? target);
}
