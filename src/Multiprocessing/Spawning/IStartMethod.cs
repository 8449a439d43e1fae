namespace Multiprocessing.Spawning;

/// <summary>How a child comes to exist. Every method yields the same <see cref="ChildHandle"/>.</summary>
internal interface IStartMethod
{
    /// <summary>CPython's name: "spawn", "forkserver".</summary>
    string Name { get; }

    /// <summary>
    /// Called at the top of <c>Start()</c>, before the payload is encoded, for work that would
    /// compete with the child if done after the payload is written.
    /// </summary>
    void Anticipate() { }

    /// <summary>
    /// Starts a child and sends it <paramref name="bootstrap"/>; the child also receives
    /// <paramref name="descriptors"/> under the same numbers. <paramref name="target"/> is the
    /// method the child will run, if any (a hint: forkserver compiles recent ones in its spares).
    /// Throws synchronously if no child could be started.
    /// </summary>
    ChildHandle Launch(byte[] bootstrap, IReadOnlyList<int> descriptors, System.Reflection.MethodInfo? target);
}
