using Microsoft.Win32.SafeHandles;
using Multiprocessing.Interop;
using Multiprocessing.Wire;
using Xunit;

namespace Multiprocessing.Tests.Wire;

/// <summary>The parent's end of a child's channel: frames both ways, and a dispose that wakes its watch.</summary>
public class ChannelStreamTests
{
    private static (ChannelStream Mine, DescriptorChannel Theirs) Pair()
    {
        (int mine, int theirs) = Libc.CreateSocketPair();
        return (new ChannelStream(new SafeFileHandle(mine, ownsHandle: true)), new DescriptorChannel(theirs));
    }

    [Fact]
    public void Frames_go_both_ways()
    {
        (ChannelStream mine, DescriptorChannel theirs) = Pair();
        using (mine)
        using (theirs)
        {
            Framing.Write(mine, [1, 2, 3]);
            Assert.Equal(new byte[] { 1, 2, 3 }, Framing.Read(theirs));
            Framing.Write(theirs, [4, 5]);
            Assert.Equal(new byte[] { 4, 5 }, Framing.Read(mine));
        }
    }

    [Fact]
    public void Disposing_wakes_a_read_blocked_in_another_thread_and_the_peer_sees_the_end()
    {
        (ChannelStream mine, DescriptorChannel theirs) = Pair();
        using (theirs)
        {
            var read = Task.Factory.StartNew(() => Framing.Read(mine), TaskCreationOptions.LongRunning);
            Assert.False(read.Wait(200)); // blocked: nothing was written
            mine.Dispose();
            Assert.True(read.Wait(TimeSpan.FromSeconds(30)), "the blocked read did not return");
            Assert.Null(read.Result); // end of stream, not an error
            Assert.Null(Framing.Read(theirs));
            Assert.Throws<ObjectDisposedException>(() => mine.Read(new byte[1]));
            mine.Dispose(); // twice is fine
        }
    }
}
