using System.Diagnostics;
using System.Net.Sockets;

namespace Multiprocessing.Connections;

/// <summary>
/// Readiness waits with CPython's timeout convention over the BCL's <c>Socket.Select</c>
/// (poll(2) underneath: the thread sleeps in the kernel, nothing spins).
/// </summary>
internal static class SocketWaits
{
    /// <summary>Select takes an int of microseconds; longer waits go in slices of this.</summary>
    private static readonly TimeSpan Slice = TimeSpan.FromMinutes(30);

    /// <summary>
    /// The sockets of <paramref name="sockets"/> that are readable (data, or the peer closed),
    /// waiting up to <paramref name="timeout"/>: null waits until one is, zero or negative looks once.
    /// </summary>
    internal static List<Socket> SelectReadable(IReadOnlyCollection<Socket> sockets, TimeSpan? timeout)
    {
        long start = Stopwatch.GetTimestamp();
        while (true)
        {
            int microseconds = timeout is { } t ? SliceMicroseconds(t - Stopwatch.GetElapsedTime(start)) : -1;
            var ready = new List<Socket>(sockets);
            Socket.Select(ready, null, null, microseconds);
            if (ready.Count > 0 || microseconds == 0) return ready;
            if (timeout is { } limit && Stopwatch.GetElapsedTime(start) >= limit) return ready;
        }
    }

    /// <summary>Microseconds to wait now, rounded up to whole milliseconds so a tail under 1 ms does not become a spin.</summary>
    private static int SliceMicroseconds(TimeSpan left)
    {
        if (left <= TimeSpan.Zero) return 0;
        if (left >= Slice) return (int)Slice.TotalMicroseconds;
        return (int)Math.Ceiling(left.TotalMilliseconds) * 1000;
    }
}
