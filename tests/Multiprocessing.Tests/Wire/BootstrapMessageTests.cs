using Multiprocessing.Wire;
using Xunit;

namespace Multiprocessing.Tests.Wire;

/// <summary>
/// The process channel's bootstrap message: the parent's descriptor table size, the numbers of
/// the descriptors passed with it (a forkserver spare's), then the payload.
/// </summary>
public class BootstrapMessageTests
{
    [Fact]
    public void The_table_size_passed_numbers_and_payload_come_back_apart()
    {
        byte[] message = ChannelMessage.CreateBootstrap(256, [7, 12], [1, 2, 3]);
        Assert.Equal(ChannelMessageKind.Bootstrap, ChannelMessage.Parse(message, out ReadOnlyMemory<byte> body));
        Assert.Equal(256, ChannelMessage.SplitBootstrap(ref body, out int[] passed));
        Assert.Equal([7, 12], passed);
        Assert.Equal(new byte[] { 1, 2, 3 }, body.ToArray());
    }

    [Fact]
    public void A_spawn_bootstrap_passes_no_descriptor()
    {
        byte[] message = ChannelMessage.CreateBootstrap(64, [], [9]);
        ChannelMessage.Parse(message, out ReadOnlyMemory<byte> body);
        Assert.Equal(64, ChannelMessage.SplitBootstrap(ref body, out int[] passed));
        Assert.Empty(passed);
        Assert.Equal(new byte[] { 9 }, body.ToArray());
    }

    [Theory]
    [InlineData(new byte[] { 1, 2, 3 })]                                  // shorter than table size and count
    [InlineData(new byte[] { 0, 0, 1, 0, 0, 0, 0, 2, 0, 0, 0, 5 })]      // two numbers announced, one there
    [InlineData(new byte[] { 0, 0, 1, 0, 0xff, 0xff, 0xff, 0xff })]     // a negative count
    public void A_malformed_body_is_corrupt_not_a_crash(byte[] bytes)
    {
        ReadOnlyMemory<byte> body = bytes;
        Assert.Throws<InvalidDataException>(() => ChannelMessage.SplitBootstrap(ref body, out _));
    }
}
