using Multiprocessing.Interop;
using Multiprocessing.Wire;
using Xunit;

namespace Multiprocessing.Tests.Wire;

/// <summary>The child host's channel: plain reads and writes on a descriptor it owns.</summary>
public class DescriptorChannelTests
{
    [Fact]
    public void Frames_cross_a_socket_pair_and_the_peer_closing_is_a_clean_end()
    {
        (int a, int b) = Libc.CreateSocketPair();
        using var left = new DescriptorChannel(a);
        var right = new DescriptorChannel(b);
        try
        {
            byte[] big = new byte[200_000]; // past one write's worth of socket buffer: written in parts, read in parts
            new Random(5).NextBytes(big);
            var writer = Task.Run(() => { Framing.Write(right, "hello"u8); Framing.Write(right, big); });
            Assert.Equal("hello"u8.ToArray(), Framing.Read(left));
            Assert.Equal(big, Framing.Read(left));
            Assert.True(writer.Wait(TimeSpan.FromSeconds(60)));
            right.Dispose();
            Assert.Null(Framing.Read(left));
        }
        finally
        {
            right.Dispose();
        }
    }

    [Fact]
    public void A_small_read_takes_what_the_descriptor_has_in_one_call_and_serves_the_rest_from_it()
    {
        (int a, int b) = Libc.CreateSocketPair();
        using var left = new DescriptorChannel(a);
        using var peer = new System.Net.Sockets.Socket(new System.Net.Sockets.SafeSocketHandle(a, ownsHandle: false));
        using (var right = new DescriptorChannel(b))
        {
            Assert.False(left.HasDataNow); // nothing sent, peer open
            var two = new MemoryStream();
            Framing.Write(two, "first"u8);
            Framing.Write(two, "second"u8);
            right.Write(two.ToArray()); // both frames in one write
        }
        Assert.True(left.HasDataNow);
        Assert.Equal("first"u8.ToArray(), Framing.Read(left));
        Assert.Equal(0, peer.Available); // the header's read took both frames off the socket
        Assert.True(left.HasDataNow);     // the second is in the stream's buffer
        Assert.Equal("second"u8.ToArray(), Framing.Read(left));
        Assert.Null(Framing.Read(left)); // then the peer's close
    }

    [Fact]
    public void Disposing_twice_is_safe_and_use_after_dispose_is_refused()
    {
        (int a, int b) = Libc.CreateSocketPair();
        using var other = new DescriptorChannel(b);
        var s = new DescriptorChannel(a);
        Assert.True(s.IsOpen);
        s.Dispose();
        s.Dispose();
        Assert.False(s.IsOpen);
        Assert.Throws<ObjectDisposedException>(() => s.Read(new byte[1], 0, 1));
        Assert.Throws<ObjectDisposedException>(() => s.Write(new byte[1]));
    }

    [Fact]
    public void Writing_to_a_closed_peer_is_an_IOException_not_a_signal()
    {
        (int a, int b) = Libc.CreateSocketPair();
        using var s = new DescriptorChannel(a);
        new DescriptorChannel(b).Dispose();
        Assert.Throws<IOException>(() => s.Write(new byte[16]));
    }
}
