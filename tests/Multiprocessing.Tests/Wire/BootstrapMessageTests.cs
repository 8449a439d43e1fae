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
        Assert.Equal(ChannelMessageKind.Bootstrap, ChannelMessage.Kind(message));
        byte[] payload = ChannelMessage.ReadBootstrap(message, out int tableSize, out int[] passed);
        Assert.Equal(256, tableSize);
        Assert.Equal([7, 12], passed);
        Assert.Equal(new byte[] { 1, 2, 3 }, payload);
    }

    [Fact]
    public void A_spawn_bootstrap_passes_no_descriptor()
    {
        byte[] message = ChannelMessage.CreateBootstrap(64, [], [9]);
        byte[] payload = ChannelMessage.ReadBootstrap(message, out int tableSize, out int[] passed);
        Assert.Equal(64, tableSize);
        Assert.Empty(passed);
        Assert.Equal(new byte[] { 9 }, payload);
    }

    [Theory]
    [InlineData(new byte[] { 1, 2, 3 })]                                  // shorter than table size and count
    [InlineData(new byte[] { 0, 0, 1, 0, 0, 0, 0, 2, 0, 0, 0, 5 })]      // two numbers announced, one there
    [InlineData(new byte[] { 0, 0, 1, 0, 0xff, 0xff, 0xff, 0xff })]     // a negative count
    public void A_malformed_body_is_corrupt_not_a_crash(byte[] body)
    {
        byte[] message = ChannelMessage.Create(ChannelMessageKind.Bootstrap, body);
        Assert.Throws<InvalidDataException>(() => ChannelMessage.ReadBootstrap(message, out _, out _));
    }
}
