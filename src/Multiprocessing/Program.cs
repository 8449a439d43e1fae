namespace Multiprocessing;

/// <summary>
/// The child host's entry point: a child is <c>dotnet exec --runtimeconfig &lt;app&gt; --depsfile
/// &lt;app&gt; Multiprocessing.dll</c>, so it loads the app's assemblies without running the app's Main.
/// </summary>
internal static class Program
{
    private static int Main() => ChildHost.RunMain();
}
