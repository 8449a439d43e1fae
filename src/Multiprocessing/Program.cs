namespace Multiprocessing;

/// <summary>
/// The child host's entry point: a child is <c>dotnet exec --runtimeconfig &lt;app&gt; --depsfile
/// &lt;app&gt; Multiprocessing.dll --channel-fd N …</c> (Spawning/ChildLaunch), so it loads the app's assemblies without running the app's Main.
/// </summary>
internal static class Program
{
    private static int Main(string[] args) => ChildHost.RunMain(args);
}
