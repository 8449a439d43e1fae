using System.Security.Cryptography;
using Multiprocessing.Interop;
using Xunit;

namespace Multiprocessing.Tests.Interop;

/// <summary>Large receives fault their array's pages in with one madvise call before writing them.</summary>
public class PopulateForWriteTests
{
    [Theory]
    [InlineData(1)]
    [InlineData(4095)]
    [InlineData(3 * 4096 + 17)]
    [InlineData(16 << 20)]
    public void The_contents_stay_as_they_were(int length)
    {
        // MADV_POPULATE_WRITE maps pages as a write would, without writing: an advice that
        // dropped pages (MADV_DONTNEED, MADV_FREE) would zero them and fail here.
        byte[] data = RandomNumberGenerator.GetBytes(length);
        byte[] copy = (byte[])data.Clone();
        Libc.PopulateForWrite(data);
        Assert.Equal(copy, data);
    }

    [Fact]
    public async Task An_async_receive_of_a_large_message_arrives_whole()
    {
        var (a, b) = Connection.Pipe();
        using (a)
        using (b)
        {
            byte[] big = RandomNumberGenerator.GetBytes(3 << 20); // above the 1 MiB populate threshold
            var sender = Task.Run(() => a.SendBytes(big));
            byte[] got = await b.RecvBytesAsync().AsTask().WaitAsync(TimeSpan.FromSeconds(60));
            await sender.WaitAsync(TimeSpan.FromSeconds(60));
            Assert.Equal(SHA256.HashData(big), SHA256.HashData(got));
        }
    }
}
