/// <summary>
/// DOTNET_STARTUP_HOOKS entry, for self-contained apps that have no <c>dotnet</c> muxer to run
/// the child host with: the app's executable is started again and taken over before its Main.
/// Must be in the global namespace with this exact shape.
/// </summary>
internal static class StartupHook
{
    public static void Initialize() => Multiprocessing.ChildHost.RunIfChild(exitWhenDone: true);
}
