using Microsoft.Win32.SafeHandles;
using Multiprocessing.Interop;
using Diag = System.Diagnostics;

namespace Multiprocessing.Spawning;

/// <summary>
/// Starts one child host process. The child inherits exactly one descriptor besides stdio and
/// the ones it is given: its end of a socket pair that carries the bootstrap payload down and
/// result frames up, and whose EOF tells each side that the other has died.
/// </summary>
internal static class HostLauncher
{
    /// <summary>
    /// Held while a child's descriptors are inheritable: .NET 10 closes no stray descriptors
    /// at exec, so two concurrent launches would each leak their channel into the other child
    /// (CPython test_child_fd_inflation).
    /// </summary>
    internal static readonly Lock SpawnLock = new();

    /// <summary>Launches a child host given <paramref name="descriptors"/>; a <paramref name="spare"/> (forkserver) warms up and waits for a payload.</summary>
    internal static (Diag.Process Os, SafeFileHandle Channel) Launch(HostInfo host, IReadOnlyList<int> descriptors, bool spare = false,
                                                             IReadOnlyDictionary<string, string>? extraEnvironment = null)
    {
        if (!OperatingSystem.IsLinux() && !OperatingSystem.IsMacOS() && !OperatingSystem.IsFreeBSD())
            throw new PlatformNotSupportedException("Multiprocessing currently starts child processes on Linux and macOS only.");

        lock (SpawnLock)
        {
            (int parentFd, int childFd) = Libc.CreateSocketPair();
            Diag.Process os;
            try
            {
                Libc.SetCloseOnExec(childFd, false);
                foreach (int fd in descriptors) Libc.SetCloseOnExec(fd, false);
                LaunchCommand command = ChildLaunch.Resolve(host, childFd, descriptors, File.Exists, spare);
                // CPython closes the child's stdin and reopens it on /dev/null. Here the child's fd 0
                // is a pipe whose other end the parent closes at once: end of file for managed and
                // native reads alike, and the child spends nothing on it (Console.SetIn in the
                // child cost ~1.5 ms of its cold start).
                var psi = new Diag.ProcessStartInfo(command.FileName) { UseShellExecute = false, RedirectStandardInput = true };
                foreach (string a in command.Arguments) psi.ArgumentList.Add(a);
                foreach ((string k, string v) in command.Environment) psi.Environment[k] = v;
                if (extraEnvironment is not null)
                {
                    foreach ((string k, string v) in extraEnvironment) psi.Environment[k] = v;
                }
                try
                {
                    os = Diag.Process.Start(psi) ?? throw new InvalidOperationException("Process.Start returned null");
                    os.StandardInput.Close();
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
            return (os, new SafeFileHandle(parentFd, ownsHandle: true));
        }
    }
}
