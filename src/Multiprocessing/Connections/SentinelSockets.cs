using System.Net.Sockets;
using System.Runtime.CompilerServices;
using Multiprocessing.Interop;

namespace Multiprocessing.Connections;

/// <summary>
/// A readable socket per <see cref="Sentinel"/>, so one poll(2) can wait on sentinels together
/// with connections and sockets: when the process ends a byte is written and the writing end
/// closed, and the reading end stays readable for good. Made once per sentinel (not per wait),
/// so a wait loop adds no continuation per call.
/// </summary>
internal static class SentinelSockets
{
    private static readonly ConditionalWeakTable<Sentinel, Socket> s_sockets = [];

    internal static Socket For(Sentinel sentinel) => s_sockets.GetValue(sentinel, Create);

    private static Socket Create(Sentinel sentinel)
    {
        (int readFd, int writeFd) = Libc.CreateSocketPair();
        var reader = new Socket(new SafeSocketHandle(readFd, ownsHandle: true));
        var writer = new Socket(new SafeSocketHandle(writeFd, ownsHandle: true));
        sentinel.Completion.ContinueWith(_ =>
        {
            using (writer) writer.Send([1]);
        }, CancellationToken.None, TaskContinuationOptions.ExecuteSynchronously, TaskScheduler.Default);
        return reader;
    }
}
