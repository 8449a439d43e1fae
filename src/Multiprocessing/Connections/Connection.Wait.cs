using System.Net.Sockets;
using Multiprocessing.Connections;

namespace Multiprocessing;

// Readiness: CPython poll() and multiprocessing.connection.wait().
public sealed partial class Connection
{
    /// <summary>
    /// True when a message (or the peer's close) is waiting to be received. Waits up to
    /// <paramref name="timeout"/>: null waits until then; zero or negative looks once and returns
    /// at once. Note: CPython's <c>poll()</c> with no argument does not wait; here that is
    /// <c>Poll(TimeSpan.Zero)</c>.
    /// </summary>
    /// <example><code>if (conn.Poll(TimeSpan.FromSeconds(1))) Use(conn.Recv());</code></example>
    /// <exception cref="InvalidOperationException"><c>handle is closed</c> or <c>connection is write-only</c>.</exception>
    public bool Poll(TimeSpan? timeout = null)
    {
        Socket socket = CheckReadable();
        try
        {
            return SocketWaits.SelectReadable([socket], timeout).Count > 0;
        }
        catch (Exception e) when (IsSocketFailure(e))
        {
            throw Translate(e);
        }
    }

    /// <summary>
    /// Waits until at least one of <paramref name="objects"/> is ready and returns the ready ones,
    /// in the order given (CPython <c>multiprocessing.connection.wait</c>). A
    /// <see cref="Connection"/> or <see cref="Socket"/> is ready when it has data to read or its
    /// peer has closed; a <see cref="Sentinel"/> when its process has ended. Returns an empty list
    /// when <paramref name="timeout"/> passes first: null waits as long as it takes, zero or
    /// negative looks once. The thread sleeps in the kernel meanwhile.
    /// </summary>
    /// <example>
    /// <code>
    /// var readers = new List&lt;object&gt; { r1, r2, p.Sentinel };
    /// foreach (object ready in Connection.Wait(readers, TimeSpan.FromSeconds(5)))
    ///     if (ready is Connection c) Use(c.Recv());
    /// </code>
    /// </example>
    /// <exception cref="ArgumentException">An object that is none of those three kinds.</exception>
    /// <exception cref="InvalidOperationException"><c>handle is closed</c>: a connection in the list is closed.</exception>
    public static IReadOnlyList<object> Wait(IEnumerable<object> objects, TimeSpan? timeout = null)
    {
        ArgumentNullException.ThrowIfNull(objects);
        object[] items = [.. objects];
        var sockets = new Socket?[items.Length];
        var ready = new bool[items.Length];
        bool anyReady = false;
        for (int i = 0; i < items.Length; i++)
        {
            switch (items[i])
            {
                case Connection c: sockets[i] = c.CheckOpen(); break;
                case Socket s: sockets[i] = s; break;
                case Sentinel s when s.IsReady: ready[i] = anyReady = true; break;
                case Sentinel s: sockets[i] = SentinelSockets.For(s); break;
                case null: throw new ArgumentException("cannot wait on null");
                default:
                    throw new ArgumentException(
                        $"cannot wait on a {items[i].GetType().FullName}: pass Connections, Process sentinels or Sockets");
            }
        }

        var distinct = new HashSet<Socket>(ReferenceEqualityComparer.Instance);
        foreach (Socket? s in sockets) if (s is not null) distinct.Add(s);
        if (distinct.Count == 0)
        {
            // CPython sleeps out the timeout on an empty list, and blocks forever with none.
            if (!anyReady) Thread.Sleep(timeout is { } t && t < TimeSpan.FromMilliseconds(int.MaxValue) ? (t > TimeSpan.Zero ? t : TimeSpan.Zero) : Timeout.InfiniteTimeSpan);
        }
        else
        {
            List<Socket> readable;
            try
            {
                readable = SocketWaits.SelectReadable(distinct, anyReady ? TimeSpan.Zero : timeout);
            }
            catch (ObjectDisposedException) when (Array.Exists(items, o => o is Connection { Closed: true }))
            {
                throw HandleClosed();
            }
            var readySet = new HashSet<Socket>(readable, ReferenceEqualityComparer.Instance);
            for (int i = 0; i < items.Length; i++)
                if (sockets[i] is { } s && readySet.Contains(s)) ready[i] = true;
        }

        var result = new List<object>();
        for (int i = 0; i < items.Length; i++) if (ready[i]) result.Add(items[i]);
        return result;
    }
}
