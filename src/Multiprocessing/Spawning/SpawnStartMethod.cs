using System.Net.Sockets;
using Multiprocessing.Interop;
using Diag = System.Diagnostics;

namespace Multiprocessing.Spawning;

/// <summary>
/// <c>spawn</c>: a fresh OS process per child. The child inherits exactly one descriptor, one
/// end of a socket pair that carries the bootstrap payload down and result frames up; its EOF
/// tells each side that the other has died.
/// </summary>
internal sealed class SpawnStartMethod : IStartMethod
{
    /// <summary>
    /// Held while a child's end of a socket pair is inheritable: .NET 10 closes no stray
    /// descriptors at exec, so two concurrent spawns would each leak their channel into the
    /// other child (CPython test_child_fd_inflation).
    /// </summary>
    internal static readonly Lock SpawnLock = new();

    private readonly Func<HostInfo> _host;

    internal SpawnStartMethod(Func<HostInfo> host) => _host = host;

    public string Name => "spawn";

    public ChildHandle Launch(byte[] bootstrap, IReadOnlyList<int> descriptors)
    {
        if (!OperatingSystem.IsLinux() && !OperatingSystem.IsMacOS() && !OperatingSystem.IsFreeBSD())
            throw new PlatformNotSupportedException("Multiprocessing currently starts child processes on Linux and macOS only.");

        Diag.Process os;
        Socket channel;
        lock (SpawnLock)
        {
            (int parentFd, int childFd) = Libc.CreateSocketPair();
            try
            {
                Libc.SetCloseOnExec(childFd, false);
                foreach (int fd in descriptors) Libc.SetCloseOnExec(fd, false);
                LaunchCommand command = ChildLaunch.Resolve(_host(), childFd, descriptors, File.Exists);
                var psi = new Diag.ProcessStartInfo(command.FileName) { UseShellExecute = false };
                foreach (string a in command.Arguments) psi.ArgumentList.Add(a);
                foreach ((string k, string v) in command.Environment) psi.Environment[k] = v;
                try
                {
                    os = Diag.Process.Start(psi) ?? throw new InvalidOperationException("Process.Start returned null");
                }
                catch (Exception e) when (e is System.ComponentModel.Win32Exception or InvalidOperationException)
                {
                    throw new InvalidOperationException(
                        $"Failed to start a child process with '{command.FileName}': {e.Message}. " +
                        "Check that the .NET runtime that runs this app can still be executed.", e);
                }
            }
            catch
            {
                Libc.Close(parentFd);
                throw;
            }
            finally
            {
                Libc.Close(childFd);
                // The parent keeps its copies (it may close them itself, CPython test_spawn_close),
                // but no later child may inherit them.
                foreach (int fd in descriptors) Libc.SetCloseOnExec(fd, true);
            }
            channel = new Socket(new SafeSocketHandle(parentFd, ownsHandle: true));
        }
        return new ChildHandle(os, channel, bootstrap);
    }
}
