using System.Buffers.Binary;
using Multiprocessing.Wire;
using Xunit;

namespace Multiprocessing.Tests.Wire;

public class FramingTests
{
    [Theory]
    [InlineData(0)]
    [InlineData(1)]
    [InlineData(65536)] // the one-write path's edge
    [InlineData(65537)]
    public void Messages_round_trip_with_a_4_byte_big_endian_length(int size)
    {
        byte[] msg = new byte[size];
        new Random(size).NextBytes(msg);
        var ms = new MemoryStream();
        Framing.Write(ms, msg);
        byte[] raw = ms.ToArray();
        Assert.Equal(size + 4, raw.Length);
        Assert.Equal(size, BinaryPrimitives.ReadInt32BigEndian(raw));
        ms.Position = 0;
        Assert.Equal(msg, Framing.Read(ms));
        Assert.Null(Framing.Read(ms)); // clean end between frames
    }

    [Fact]
    public void The_header_switches_to_minus_one_and_8_bytes_above_int_max()
    {
        Span<byte> h = stackalloc byte[12];
        Assert.Equal(4, Framing.WriteHeader(h, 0x7fffffff));
        Assert.Equal(0x7fffffff, BinaryPrimitives.ReadInt32BigEndian(h));
        Assert.Equal(12, Framing.WriteHeader(h, 0x80000000L));
        Assert.Equal(-1, BinaryPrimitives.ReadInt32BigEndian(h));
        Assert.Equal(0x80000000UL, BinaryPrimitives.ReadUInt64BigEndian(h[4..]));
    }

    [Fact]
    public void A_long_header_is_parsed_and_checked_against_the_maximum_without_allocating()
    {
        byte[] h = new byte[12];
        Framing.WriteHeader(h, 3L * 1024 * 1024 * 1024);
        var e = Assert.Throws<InvalidDataException>(() => Framing.Read(new MemoryStream(h)));
        Assert.Contains("3221225472", e.Message);

        // A long header for a small message is still honoured (CPython only sends it above 2 GiB, but reads either).
        byte[] small = [.. new byte[] { 0xff, 0xff, 0xff, 0xff, 0, 0, 0, 0, 0, 0, 0, 3 }, 7, 8, 9];
        Assert.Equal(new byte[] { 7, 8, 9 }, Framing.Read(new MemoryStream(small)));
    }

    [Fact]
    public void The_maximum_length_is_enforced()
    {
        var ms = new MemoryStream();
        Framing.Write(ms, new byte[100]);
        ms.Position = 0;
        Assert.Throws<InvalidDataException>(() => Framing.Read(ms, maxLength: 99));
        ms.Position = 0;
        Assert.Equal(100, Framing.Read(ms, maxLength: 100)!.Length);
    }

    [Fact]
    public void Negative_lengths_and_truncation_are_invalid_data()
    {
        Assert.Throws<InvalidDataException>(() => Framing.Read(new MemoryStream([0xff, 0xff, 0xff, 0xfe])));
        Assert.Throws<InvalidDataException>(() => Framing.Read(new MemoryStream([0, 0])));
        Assert.Throws<InvalidDataException>(() => Framing.Read(new MemoryStream([0, 0, 0, 5, 1, 2])));
        Assert.Throws<InvalidDataException>(() => Framing.Read(new MemoryStream([0xff, 0xff, 0xff, 0xff, 0, 0])));
        Assert.Throws<InvalidDataException>(() => Framing.Read(new MemoryStream([0xff, 0xff, 0xff, 0xff, 0xff, 0, 0, 0, 0, 0, 0, 0])));
    }

    [Fact]
    public async Task Fuzzed_frames_fail_cleanly_and_never_allocate_beyond_the_cap()
    {
        var rng = new Random(4242);
        for (int i = 0; i < 10_000; i++)
        {
            byte[] data = new byte[rng.Next(0, 24)];
            rng.NextBytes(data);
            try { Framing.Read(new MemoryStream(data), maxLength: 1 << 20); }
            catch (InvalidDataException) { }
            if (i % 10 == 0)
            {
                try { await Framing.ReadAsync(new MemoryStream(data), 1 << 20, CancellationToken.None); }
                catch (InvalidDataException) { }
            }
        }
    }
}
