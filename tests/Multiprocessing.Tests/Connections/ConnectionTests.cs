using System.Buffers.Binary;
using System.Diagnostics;
using System.Net.Sockets;
using System.Runtime.Serialization;
using Xunit;

namespace Multiprocessing.Tests.Connections;

/// <summary>CPython <c>_TestConnection</c> (test_connection, test_duplex_false, test_sendbytes) and the .NET additions, in one process.</summary>
public sealed class ConnectionTests : PipeFixture
{
    [Fact]
    public void test_connection_objects_bytes_and_recv_bytes_into()
    {
        var (conn, peer) = Pipe();
        // echo through the peer, as CPython's _echo child does
        var echo = new Thread(() =>
        {
            try { while (true) peer.SendBytes(peer.RecvBytes()); }
            catch (EndOfStreamException) { }
        });
        echo.Start();

        var seq = new List<object?> { 1, 2.25, null, "str" };
        conn.Send(seq);
        Assert.Equal(seq, conn.Recv<List<object?>>());

        conn.Send("hello");
        Assert.Equal("hello", conn.Recv());

        byte[] msg = "hello world"u8.ToArray();
        conn.SendBytes(msg);
        Assert.Equal(msg, conn.RecvBytes());

        int[] arr = [0, 1, 2, 3, 4];
        byte[] arrBytes = new byte[arr.Length * 4];
        Buffer.BlockCopy(arr, 0, arrBytes, 0, arrBytes.Length);
        byte[] buffer = new byte[40];
        conn.SendBytes(arrBytes);
        Assert.Equal(arrBytes.Length, conn.RecvBytesInto(buffer));
        Assert.Equal(arrBytes, buffer[..arrBytes.Length]);
        Assert.All(buffer[arrBytes.Length..], b => Assert.Equal(0, b));

        buffer = new byte[40];
        conn.SendBytes(arrBytes);
        Assert.Equal(arrBytes.Length, conn.RecvBytesInto(buffer, 3 * 4));
        Assert.All(buffer[..12], b => Assert.Equal(0, b));
        Assert.Equal(arrBytes, buffer[12..(12 + arrBytes.Length)]);

        byte[] small = new byte[msg.Length - 1];
        conn.SendBytes(msg);
        var e = Assert.Throws<BufferTooShortException>(() => conn.RecvBytesInto(small));
        Assert.Equal(msg, e.ReceivedMessage); // CPython: e.args == (msg,)
        conn.SendBytes(msg);
        Assert.Equal(msg, conn.RecvBytes()); // the too-long message was consumed whole: the stream is still in step

        Assert.True(conn.Readable);
        Assert.True(conn.Writable);

        conn.Close();
        Assert.True(echo.Join(Long));
    }

    [Fact]
    public void test_connection_eof_after_the_peer_closes()
    {
        var (conn, peer) = Pipe();
        peer.Send("last");
        peer.Close();
        Assert.True(conn.Poll(TimeSpan.Zero));
        Assert.Equal("last", conn.Recv()); // what was sent before the close is still delivered
        Assert.True(conn.Poll(TimeSpan.Zero)); // EOF counts as readable
        Assert.Throws<EndOfStreamException>(() => conn.Recv());
        Assert.Throws<EndOfStreamException>(() => conn.RecvBytes());
    }

    [Fact]
    public void A_peer_that_closes_with_unread_messages_resets_the_connection_as_in_CPython()
    {
        // CPython: ConnectionResetError (an OSError), not EOFError: the kernel reports the loss.
        var (conn, peer) = Pipe();
        conn.Send(1);
        peer.Close();
        Assert.True(conn.Poll(TimeSpan.Zero));
        Assert.Contains("reset", Assert.Throws<IOException>(() => conn.Recv()).Message);
    }

    [Fact]
    public void test_duplex_false()
    {
        var (reader, writer) = Pipe(duplex: false);
        Assert.True(reader.Readable);
        Assert.False(reader.Writable);
        Assert.False(writer.Readable);
        Assert.True(writer.Writable);
        writer.Send(1);
        Assert.Equal(1, reader.Recv());
        Assert.Equal("connection is read-only", Assert.Throws<InvalidOperationException>(() => reader.Send(2)).Message);
        Assert.Equal("connection is write-only", Assert.Throws<InvalidOperationException>(() => writer.Recv()).Message);
        Assert.Equal("connection is write-only", Assert.Throws<InvalidOperationException>(() => writer.Poll(TimeSpan.Zero)).Message);
    }

    [Fact]
    public void test_sendbytes_slices_and_rejects_bad_offsets_with_CPython_texts()
    {
        var (a, b) = Pipe();
        byte[] msg = "abcdefghijklmnopqrstuvwxyz"u8.ToArray();
        a.SendBytes(msg);
        Assert.Equal(msg, b.RecvBytes());
        a.SendBytes(msg, 0);
        Assert.Equal(msg, b.RecvBytes());
        a.SendBytes(msg, 10);
        Assert.Equal(msg[10..], b.RecvBytes());
        a.SendBytes(msg, 10, 5);
        Assert.Equal(msg[10..15], b.RecvBytes());
        a.SendBytes(msg, 26);
        Assert.Equal([], b.RecvBytes());
        a.SendBytes(msg, 26, 0);
        Assert.Equal([], b.RecvBytes());

        Assert.Equal("buffer length < offset", Assert.Throws<ArgumentOutOfRangeException>(() => a.SendBytes(msg, 27)).Message);
        Assert.Equal("buffer length < offset + size", Assert.Throws<ArgumentOutOfRangeException>(() => a.SendBytes(msg, 22, 5)).Message);
        Assert.Equal("buffer length < offset + size", Assert.Throws<ArgumentOutOfRangeException>(() => a.SendBytes(msg, 26, 1)).Message);
        Assert.Equal("offset is negative", Assert.Throws<ArgumentOutOfRangeException>(() => a.SendBytes(msg, -1)).Message);
        Assert.Equal("size is negative", Assert.Throws<ArgumentOutOfRangeException>(() => a.SendBytes(msg, 0, -1)).Message);
        Assert.False(b.Poll(TimeSpan.Zero)); // nothing was sent by the rejected calls
    }

    [Fact]
    public void RecvBytes_maxLength_is_CPythons_bad_message_length_and_stops_receiving()
    {
        var (a, b) = Pipe();
        Assert.Equal("negative maxlength", Assert.Throws<ArgumentOutOfRangeException>(() => b.RecvBytes(-1)).Message);
        a.SendBytes(new byte[10]);
        Assert.Equal("bad message length", Assert.Throws<InvalidDataException>(() => b.RecvBytes(5)).Message);
        // CPython _bad_message_length: a duplex end stays writable but can no longer read
        Assert.False(b.Readable);
        Assert.False(b.Closed);
        Assert.Equal("connection is write-only", Assert.Throws<InvalidOperationException>(() => b.RecvBytes()).Message);
        b.Send("still sending");
        Assert.Equal("still sending", a.Recv());

        var (reader, writer) = Pipe(duplex: false);
        writer.SendBytes(new byte[10]);
        Assert.Equal(10, reader.RecvBytes(10).Length);
        writer.SendBytes(new byte[10]);
        Assert.Throws<InvalidDataException>(() => reader.RecvBytes(9));
        Assert.True(reader.Closed); // a one-way reader has nothing left to do: closed, as in CPython
    }

    [Fact]
    public void MaxMessageLength_rejects_a_long_header_before_allocating()
    {
        var (a, b) = Pipe();
        Assert.Equal(256L * 1024 * 1024, b.MaxMessageLength);
        b.MaxMessageLength = 1000;
        a.SendBytes(new byte[1000]);
        Assert.Equal(1000, b.RecvBytes().Length);
        a.SendBytes(new byte[1001]);
        var e = Assert.Throws<InvalidDataException>(() => b.RecvBytes());
        Assert.StartsWith("bad message length", e.Message);
        Assert.Contains("MaxMessageLength", e.Message);
        Assert.Throws<ArgumentOutOfRangeException>(() => b.MaxMessageLength = -1);
    }

    [Fact]
    public void A_closed_connection_says_handle_is_closed_and_closes_twice()
    {
        var (a, b) = Pipe();
        a.Close();
        Assert.True(a.Closed);
        a.Close();
        a.Dispose();
        Assert.Equal("handle is closed", Assert.Throws<InvalidOperationException>(() => a.Recv()).Message);
        Assert.Equal("handle is closed", Assert.Throws<InvalidOperationException>(() => a.Send(1)).Message);
        Assert.Equal("handle is closed", Assert.Throws<InvalidOperationException>(() => a.SendBytes(new byte[1], 0)).Message);
        Assert.Equal("handle is closed", Assert.Throws<InvalidOperationException>(() => a.RecvBytesInto(new byte[1])).Message);
        Assert.Equal("handle is closed", Assert.Throws<InvalidOperationException>(() => a.Poll(TimeSpan.Zero)).Message);
        Assert.Equal("handle is closed", Assert.Throws<InvalidOperationException>(() => Connection.Wait([a], TimeSpan.Zero)).Message);
        Assert.True(a.Readable); // CPython keeps the flags after close
        Assert.Throws<EndOfStreamException>(() => b.Recv());
    }

    [Fact]
    public void Close_from_another_thread_ends_a_blocked_receive_with_handle_is_closed()
    {
        var (a, _) = Pipe();
        Exception? caught = null;
        var t = new Thread(() => { try { a.Recv(); } catch (Exception e) { caught = e; } });
        t.Start();
        // the receiver is blocked once it holds the receive gate and sits in the kernel; closing
        // before it gets there gives the same answer, so no synchronization is needed
        a.Close();
        Assert.True(t.Join(Long));
        Assert.Equal("handle is closed", Assert.IsType<InvalidOperationException>(caught).Message);
    }

    [Fact]
    public void Close_from_another_thread_ends_a_send_blocked_on_a_full_socket_with_handle_is_closed()
    {
        var (a, b) = Pipe();
        Exception? caught = null;
        // The peer reads nothing, so 16 MiB fills the socket's buffer and the sender waits in the kernel.
        var t = new Thread(() => { try { a.SendBytes(new byte[16 << 20]); } catch (Exception e) { caught = e; } });
        t.Start();
        Assert.True(b.Poll(Long)); // the first bytes are there: the sender is inside its send
        a.Close();
        Assert.True(t.Join(Long));
        Assert.Equal("handle is closed", Assert.IsType<InvalidOperationException>(caught).Message);
    }

    [Fact]
    public void Pipe_ends_that_send_ask_for_a_1_MiB_send_buffer_as_far_as_the_kernel_allows()
    {
        // Linux reports twice what was set (its bookkeeping overhead) and caps the request at
        // net.core.wmem_max, 208 KiB on many systems: there the buffer stays as it was.
        long cap = long.Parse(File.ReadAllText("/proc/sys/net/core/wmem_max").Trim());
        long expected = 2 * Math.Min(1024 * 1024, cap);
        var (a, b) = Pipe();
        Assert.True(a.CheckOpen().SendBufferSize >= expected, $"{a.CheckOpen().SendBufferSize} < {expected}");
        Assert.True(b.CheckOpen().SendBufferSize >= expected, $"{b.CheckOpen().SendBufferSize} < {expected}");
        var (reader, writer) = Pipe(duplex: false);
        Assert.True(writer.CheckOpen().SendBufferSize >= expected);
        a.Close(); b.Close(); reader.Close(); writer.Close();
    }

    [Fact]
    public void Sending_to_a_closed_peer_is_an_IOException_broken_pipe()
    {
        var (a, b) = Pipe();
        b.Close();
        Assert.Contains("Broken pipe", Assert.Throws<IOException>(() => a.SendBytes(new byte[16 << 20])).Message);
        Assert.Contains("Broken pipe", Assert.Throws<IOException>(() => a.SendBytes([1])).Message);
    }

    [Fact]
    public void A_peer_that_dies_mid_message_is_got_end_of_file_during_message()
    {
        (Socket raw, Connection conn) = RawPair();
        using (raw)
        {
            byte[] frame = new byte[4 + 3];
            BinaryPrimitives.WriteInt32BigEndian(frame, 10);
            raw.Send(frame);
            raw.Shutdown(SocketShutdown.Send);
            Assert.Equal("got end of file during message", Assert.Throws<InvalidDataException>(() => conn.RecvBytes()).Message);
        }
    }

    [Fact]
    public void Recv_of_T_casts_and_explains_a_mismatch()
    {
        var (a, b) = Pipe();
        a.Send(null);
        Assert.Null(b.Recv<string?>());
        a.Send(null);
        Assert.Null(b.Recv<int?>());
        a.Send("x");
        var e = Assert.Throws<InvalidCastException>(() => b.Recv<int>());
        Assert.Contains("System.String", e.Message);
        a.Send(null);
        Assert.Throws<InvalidCastException>(() => b.Recv<int>());
        a.Send((1, "one"));
        Assert.Equal((1, "one"), b.Recv<(int, string)>());
    }

    [Fact]
    public void Sending_a_connection_outside_a_process_start_is_refused_with_CPythons_inheritance_text()
    {
        var (a, b) = Pipe();
        var (c, _) = Pipe();
        var e = Assert.Throws<SerializationException>(() => a.Send(c));
        Assert.Equal("Connection objects should only be shared between processes through inheritance", e.Message);
        Assert.Throws<SerializationException>(() => a.Send(new List<object> { 1, c }));
        Assert.False(b.Poll(TimeSpan.Zero)); // refused before anything was written
        a.Send(1);
        Assert.Equal(1, b.Recv());
    }

    [Fact]
    public void Concurrent_senders_and_receivers_never_interleave_frames()
    {
        var (a, b) = Pipe();
        const int Threads = 4, PerThread = 200;
        var rng = new Random(7);
        byte[][] payloads = [.. Enumerable.Range(0, Threads).Select(i =>
        {
            byte[] p = new byte[100_000 + i * 17_000]; // above the single-write size: header and body are separate writes
            rng.NextBytes(p);
            p[0] = (byte)i;
            return p;
        })];
        var senders = Enumerable.Range(0, Threads).Select(i => new Thread(() =>
        {
            for (int k = 0; k < PerThread; k++) a.SendBytes(payloads[i]);
        })).ToList();
        int[] counts = new int[Threads];
        var failures = new System.Collections.Concurrent.ConcurrentQueue<string>();
        var receivers = Enumerable.Range(0, 2).Select(_ => new Thread(() =>
        {
            try
            {
                while (true)
                {
                    byte[] m = b.RecvBytes();
                    int who = m[0];
                    if (who >= Threads || !m.AsSpan().SequenceEqual(payloads[who])) failures.Enqueue($"corrupt message of {m.Length} bytes");
                    else Interlocked.Increment(ref counts[who]);
                }
            }
            catch (EndOfStreamException) { }
        })).ToList();
        senders.ForEach(t => t.Start());
        receivers.ForEach(t => t.Start());
        senders.ForEach(t => Assert.True(t.Join(Long)));
        a.Close();
        receivers.ForEach(t => Assert.True(t.Join(Long)));
        Assert.Empty(failures);
        Assert.All(counts, c => Assert.Equal(PerThread, c));
    }

    [Fact]
    public async Task Async_send_and_receive_round_trip_and_mix_with_blocking_calls()
    {
        var (a, b) = Pipe();
        await a.SendAsync(new[] { 1, 2, 3 });
        int[] got = await b.RecvAsync<int[]>();
        Assert.Equal(new[] { 1, 2, 3 }, got);
        await a.SendBytesAsync(new byte[200_000]);
        Assert.Equal(200_000, (await b.RecvBytesAsync()).Length);
        a.Send("sync");
        Assert.Equal("sync", await b.RecvAsync());
        await a.SendAsync("async");
        Assert.Equal("async", b.Recv());
        a.Close();
        await Assert.ThrowsAsync<EndOfStreamException>(async () => await b.RecvAsync<int>());
    }

    [Fact]
    public async Task Cancelling_a_receive_that_has_not_started_leaves_the_connection_usable()
    {
        var (a, b) = Pipe();
        using var cts = new CancellationTokenSource();
        ValueTask<string> pending = b.RecvAsync<string>(cts.Token);
        cts.Cancel();
        await Assert.ThrowsAnyAsync<OperationCanceledException>(async () => await pending);
        a.Send("after");
        Assert.Equal("after", await b.RecvAsync<string>().AsTask().WaitAsync(Long));
        Assert.True(b.Readable);
    }

    [Fact]
    public async Task Cancelling_a_receive_inside_a_message_stops_receiving_on_that_end()
    {
        (Socket raw, Connection conn) = RawPair();
        using (raw)
        {
            byte[] header = new byte[4];
            BinaryPrimitives.WriteInt32BigEndian(header, 100);
            raw.Send(header); // a header, then silence: the receive is inside a message
            using var cts = new CancellationTokenSource();
            ValueTask<byte[]> pending = conn.RecvBytesAsync(null, cts.Token);
            var sw = Stopwatch.StartNew();
            while (conn.CheckOpen().Available > 0 && sw.Elapsed < Long) await Task.Delay(10); // until the receive took the header
            Assert.Equal(0, conn.CheckOpen().Available);
            cts.Cancel();
            await Assert.ThrowsAnyAsync<OperationCanceledException>(async () => await pending);
            Assert.False(conn.Readable);
            Assert.Equal("connection is write-only", Assert.Throws<InvalidOperationException>(() => conn.RecvBytes()).Message);
        }
    }

    [Fact]
    public void ToString_is_CPythons_object_repr_shape()
    {
        var (a, _) = Pipe();
        Assert.Matches(@"^<multiprocessing\.connection\.Connection object at 0x[0-9a-f]+>$", a.ToString());
    }

    [Fact]
    public void An_empty_message_round_trips()
    {
        var (a, b) = Pipe();
        a.SendBytes([]);
        Assert.Empty(b.RecvBytes());
        a.SendBytes([]);
        Assert.Equal(0, b.RecvBytesInto(Span<byte>.Empty));
    }

    [Fact]
    public void Streamed_messages_round_trip_and_read_as_ordinary_messages()
    {
        var (a, b) = Pipe();
        byte[] data = new byte[3_000_000];
        new Random(3).NextBytes(data);
        var sender = new Thread(() =>
        {
            a.SendBytes(new MemoryStream(data), data.Length);
            a.SendBytes(data);
        });
        sender.Start();
        Assert.Equal(data, b.RecvBytes()); // a streamed message is an ordinary frame
        var sink = new MemoryStream();
        Assert.Equal(data.Length, b.RecvBytesInto(sink));
        Assert.Equal(data, sink.ToArray());
        Assert.True(sender.Join(Long));

        a.SendBytes(new byte[11]);
        Assert.Equal("bad message length", Assert.Throws<InvalidDataException>(() => b.RecvBytesInto(Stream.Null, 10)).Message);
    }

    [Fact]
    public void A_source_stream_that_ends_early_closes_the_sender_so_the_peer_is_not_left_waiting()
    {
        var (a, b) = Pipe();
        var e = Assert.Throws<EndOfStreamException>(() => a.SendBytes(new MemoryStream(new byte[10]), 20));
        Assert.Contains("10 bytes before", e.Message);
        Assert.True(a.Closed);
        Assert.Equal("got end of file during message", Assert.Throws<InvalidDataException>(() => b.RecvBytes()).Message);
    }

    [Fact]
    public void Poll_waits_for_data_and_returns_at_once_for_zero_or_negative()
    {
        var (a, b) = Pipe();
        var sw = Stopwatch.StartNew();
        Assert.False(b.Poll(TimeSpan.Zero));
        Assert.False(b.Poll(TimeSpan.FromSeconds(-1)));
        Assert.True(sw.Elapsed < TimeSpan.FromSeconds(1));
        var sender = new Thread(() => a.Send(1));
        sender.Start();
        Assert.True(b.Poll(Long));
        Assert.True(b.Poll()); // null: waits, but data is already there
        Assert.Equal(1, b.Recv());
        Assert.True(sender.Join(Long));
    }

    /// <summary>A raw socket writing into a Connection, to put arbitrary bytes on the wire.</summary>
    internal static (Socket Raw, Connection Conn) RawPair()
    {
        (int fd0, int fd1) = Multiprocessing.Interop.Libc.CreateSocketPair();
        return (new Socket(new SafeSocketHandle(fd0, ownsHandle: true)), Connection.FromSocket(new Socket(new SafeSocketHandle(fd1, ownsHandle: true))));
    }
}
