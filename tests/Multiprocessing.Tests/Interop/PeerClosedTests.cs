using System.Net.Sockets;
using Multiprocessing.Interop;
using Xunit;

namespace Multiprocessing.Tests.Interop;

/// <summary>The forkserver's test for a dead spare: a peek that neither waits nor takes anything.</summary>
public class PeerClosedTests
{
    [Fact]
    public void Open_empty_pending_and_closed_are_told_apart_without_taking_a_byte()
    {
        (int a, int b) = Libc.CreateSocketPair();
        using var mine = new Socket(new SafeSocketHandle(a, ownsHandle: true));
        using (var peer = new Socket(new SafeSocketHandle(b, ownsHandle: true)))
        {
            Assert.False(Libc.PeerClosed(mine.SafeHandle)); // open and empty: no wait
            peer.Send([7, 8]);
            Assert.False(Libc.PeerClosed(mine.SafeHandle)); // bytes waiting
            Assert.Equal(2, mine.Available);                 // and still there: a peek takes nothing
        }
        Assert.False(Libc.PeerClosed(mine.SafeHandle)); // closed, but two bytes are still to be read
        Assert.Equal(2, mine.Receive(new byte[4]));
        Assert.True(Libc.PeerClosed(mine.SafeHandle));  // closed and drained: end of stream
    }

    [Fact]
    public void A_disposed_socket_is_refused()
    {
        (int a, int b) = Libc.CreateSocketPair();
        using var peer = new Socket(new SafeSocketHandle(b, ownsHandle: true));
        var mine = new Socket(new SafeSocketHandle(a, ownsHandle: true));
        mine.Dispose();
        Assert.Throws<ObjectDisposedException>(() => Libc.PeerClosed(mine.SafeHandle));
    }
}
