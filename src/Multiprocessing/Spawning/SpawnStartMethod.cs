namespace Multiprocessing.Spawning;

/// <summary><c>spawn</c>: a fresh OS process per child, launched at <c>Start()</c>.</summary>
internal sealed class SpawnStartMethod : IStartMethod
{
    private readonly Func<HostInfo> _host;

    internal SpawnStartMethod(Func<HostInfo> host) => _host = host;

    public string Name => "spawn";

    public ChildHandle Launch(byte[] bootstrap, IReadOnlyList<int> descriptors, System.Reflection.MethodInfo? target) =>
        LaunchFresh(_host(), bootstrap, descriptors);

    /// <summary>Boots a host for this start alone, which inherits <paramref name="descriptors"/>, and sends it the payload (also a forkserver start that finds no spare).</summary>
    internal static ChildHandle LaunchFresh(HostInfo host, byte[] bootstrap, IReadOnlyList<int> descriptors)
    {
        (System.Diagnostics.Process os, Microsoft.Win32.SafeHandles.SafeFileHandle channel) = HostLauncher.Launch(host, descriptors);
        var handle = new ChildHandle(os, channel);
        // Read now, after the fork: every descriptor the child inherited is below it (a table never shrinks).
        handle.SendBootstrap(bootstrap, StrayDescriptors.TableSize() ?? 0, []);
        return handle;
    }
}
