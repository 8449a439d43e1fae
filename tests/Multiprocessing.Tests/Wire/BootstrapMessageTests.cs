using Multiprocessing.Wire;
using Xunit;

namespace Multiprocessing.Tests.Wire;

/// <summary>The process channel's bootstrap message: the parent's descriptor table size, then the payload.</summary>
public class BootstrapMessageTests
{
    [Fact]
    public void The_table_size_and_payload_come_back_apart()
    {
        byte[] message = ChannelMessage.CreateBootstrap(256, [1, 2, 3]);
        Assert.Equal(ChannelMessageKind.Bootstrap, ChannelMessage.Parse(message, out ReadOnlyMemory<byte> body));
        Assert.Equal(256, ChannelMessage.SplitBootstrap(ref body));
        Assert.Equal(new byte[] { 1, 2, 3 }, body.ToArray());
    }

    [Fact]
    public void A_body_shorter_than_the_table_size_is_corrupt_not_a_crash()
    {
        ReadOnlyMemory<byte> body = new byte[] { 1, 2, 3 };
        Assert.Throws<InvalidDataException>(() => ChannelMessage.SplitBootstrap(ref body));
    }
}
