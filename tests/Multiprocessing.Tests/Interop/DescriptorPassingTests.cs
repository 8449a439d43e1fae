using System.Net.Sockets;
using Multiprocessing.Interop;
using Xunit;

namespace Multiprocessing.Tests.Interop;

/// <summary>
/// SCM_RIGHTS over the process channel: how a forkserver spare gets a start's descriptors (Linux;
/// elsewhere such a start launches a fresh host, which inherits them).
/// </summary>
public class DescriptorPassingTests
{
    [Fact]
    public void A_descriptor_sent_with_a_byte_arrives_as_a_new_close_on_exec_descriptor_for_the_same_socket()
    {
        (int a, int b) = Libc.CreateSocketPair();
        (int x, int y) = Libc.CreateSocketPair(); // the descriptor to pass: x
        using var sender = new Socket(new SafeSocketHandle(a, ownsHandle: true));
        using var passedPeer = new Socket(new SafeSocketHandle(y, ownsHandle: true));
        int? received = null;
        try
        {
            Assert.Equal(1, Libc.SendWithDescriptors(sender.SafeHandle, [42], [x]));
            sender.Send([43]);
            var buffer = new byte[8];
            int[]? fds = null;
            Assert.Equal(1, Libc.ReceiveWithDescriptors(b, buffer, dontWait: false, ref fds)); // stops at the byte that carried them
            Assert.Equal(42, buffer[0]);
            received = Assert.Single(fds!);
            Assert.NotEqual(x, received.Value);
            Assert.True(Libc.IsCloseOnExec(received.Value, out bool open));
            Assert.True(open);

            Libc.Write(received.Value, [5]); // the same socket as x: its peer reads what the copy writes
            Assert.Equal(1, passedPeer.Receive(buffer));
            Assert.Equal(5, buffer[0]);

            int[]? none = null;
            Assert.Equal(1, Libc.ReceiveWithDescriptors(b, buffer, dontWait: true, ref none)); // the rest: plain bytes
            Assert.Equal(43, buffer[0]);
            Assert.Null(none);
            Assert.Equal(-1, Libc.ReceiveWithDescriptors(b, buffer, dontWait: true, ref none)); // nothing more, no wait
        }
        finally
        {
            if (received is { } r) Libc.Close(r);
            Libc.Close(x);
            Libc.Close(b);
        }
    }
}
