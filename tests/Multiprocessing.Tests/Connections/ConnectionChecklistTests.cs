using System.Diagnostics;
using System.Security.Cryptography;
using Xunit;

namespace Multiprocessing.Tests.Connections;

/// <summary>
/// cpython-behavior.md §8 items 83–92 that need no child process, one test per item (item 85
/// waits on a process sentinel: ProcessSuite.Connections.cs).
/// </summary>
public sealed class ConnectionChecklistTests : PipeFixture
{
    [Fact]
    public void Item083_wait_on_idle_connections_times_out_after_the_timeout_then_returns_the_ready_one()
    {
        var (a, b) = Pipe();
        var sw = Stopwatch.StartNew();
        IReadOnlyList<object> ready = Connection.Wait([a, b], TimeSpan.FromSeconds(5));
        TimeSpan waited = sw.Elapsed;
        Assert.Empty(ready);
        Assert.True(waited >= TimeSpan.FromSeconds(4.9), $"returned after {waited}");

        b.Send(null);
        ready = Connection.Wait([a, b], TimeSpan.FromSeconds(20));
        Assert.Equal(new object[] { a }, ready);
        Assert.Same(a, ready[0]);
    }

    [Fact]
    public void Item084_wait_with_a_negative_timeout_returns_empty_at_once()
    {
        var (a, _) = Pipe();
        var sw = Stopwatch.StartNew();
        Assert.Empty(Connection.Wait([a], TimeSpan.FromSeconds(-1)));
        Assert.Empty(Connection.Wait([a], TimeSpan.Zero));
        Assert.True(sw.Elapsed < TimeSpan.FromSeconds(1), $"took {sw.Elapsed}");
    }

    [Fact]
    public void Item086_wait_returns_a_connection_whose_peer_closed_and_recv_on_it_is_EOF()
    {
        var (reader, writer) = Pipe(duplex: false);
        var closer = new Thread(writer.Close);
        closer.Start();
        Assert.Equal(new object[] { reader }, Connection.Wait([reader], Long));
        Assert.Throws<EndOfStreamException>(() => reader.Recv());
        Assert.True(closer.Join(Long));
    }

    [Fact]
    public void Item087_Pipe_ends_are_duplex_and_Pipe_false_is_reader_then_writer()
    {
        var (a, b) = Pipe();
        Assert.True(a.Readable && a.Writable && b.Readable && b.Writable);
        var (reader, writer) = Pipe(duplex: false);
        Assert.True(reader.Readable);
        Assert.False(reader.Writable);
        Assert.False(writer.Readable);
        Assert.True(writer.Writable);
    }

    [Fact]
    public void Item088_wrong_direction_is_connection_is_read_only_or_write_only()
    {
        var (reader, writer) = Pipe(duplex: false);
        Assert.Equal("connection is read-only", Assert.Throws<InvalidOperationException>(() => reader.Send(1)).Message);
        Assert.Equal("connection is read-only", Assert.Throws<InvalidOperationException>(() => reader.SendBytes([1])).Message);
        Assert.Equal("connection is write-only", Assert.Throws<InvalidOperationException>(() => writer.Recv()).Message);
        Assert.Equal("connection is write-only", Assert.Throws<InvalidOperationException>(() => writer.RecvBytes()).Message);
        Assert.Equal("connection is write-only", Assert.Throws<InvalidOperationException>(() => writer.Poll(TimeSpan.Zero)).Message);
    }

    [Fact]
    public void Item089_recv_on_a_closed_connection_is_handle_is_closed_and_close_twice_is_fine()
    {
        var (a, _) = Pipe();
        a.Close();
        a.Close();
        Assert.Equal("handle is closed", Assert.Throws<InvalidOperationException>(() => a.Recv()).Message);
        Assert.Equal("handle is closed", Assert.Throws<InvalidOperationException>(() => a.RecvBytes()).Message);
    }

    [Fact]
    public void Item090_poll_is_false_at_once_without_data_false_after_T_and_true_once_data_arrives()
    {
        var (a, b) = Pipe();
        var sw = Stopwatch.StartNew();
        Assert.False(b.Poll(TimeSpan.Zero));
        Assert.True(sw.Elapsed < TimeSpan.FromSeconds(1), $"Poll(0) took {sw.Elapsed}");

        sw.Restart();
        Assert.False(b.Poll(TimeSpan.FromSeconds(1)));
        Assert.True(sw.Elapsed >= TimeSpan.FromSeconds(0.95), $"Poll(1 s) returned after {sw.Elapsed}");

        a.Send(1);
        Assert.True(b.Poll(Long));
        Assert.True(b.Poll(TimeSpan.Zero)); // polling does not consume
        Assert.Equal(1, b.Recv());
        Assert.False(b.Poll(TimeSpan.Zero));
    }

    [Fact]
    public void Item091_a_16_MiB_message_round_trips_and_a_slice_past_the_end_is_refused()
    {
        var (a, b) = Pipe();
        byte[] big = RandomNumberGenerator.GetBytes(16 * 1024 * 1024);
        var sender = new Thread(() => a.SendBytes(big));
        sender.Start();
        byte[] got = b.RecvBytes();
        Assert.True(sender.Join(Long));
        Assert.Equal(SHA256.HashData(big), SHA256.HashData(got));

        byte[] msg = new byte[26];
        Assert.Equal("buffer length < offset + size", Assert.Throws<ArgumentOutOfRangeException>(() => a.SendBytes(msg, 26, 1)).Message);
    }

    [Fact]
    public void Item092_recv_bytes_into_a_short_buffer_is_BufferTooShort_with_the_whole_message()
    {
        var (a, b) = Pipe();
        byte[] msg = "a message too long for the buffer"u8.ToArray();
        a.SendBytes(msg);
        var e = Assert.Throws<BufferTooShortException>(() => b.RecvBytesInto(new byte[8]));
        Assert.Equal(msg, e.ReceivedMessage);
        Assert.False(b.Poll(TimeSpan.Zero)); // consumed
    }
}
