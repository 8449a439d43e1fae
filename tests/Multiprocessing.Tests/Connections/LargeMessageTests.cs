using System.Buffers.Binary;
using System.Diagnostics;
using System.Net.Sockets;
using System.Security.Cryptography;
using Xunit;

namespace Multiprocessing.Tests.Connections;

/// <summary>Messages beyond a byte[]: streamed through in chunks, with CPython's -1 + 8-byte header.</summary>
public sealed class LargeMessageTests
{
    private static readonly TimeSpan Long = TimeSpan.FromSeconds(300);

    [Fact]
    public void A_3_GiB_message_streams_through_with_CPythons_long_header_and_arrives_intact()
    {
        const long Size = 3L * 1024 * 1024 * 1024;
        (Socket receiving, Connection sender) = ConnectionTests.RawPair();
        using (sender)
        using (receiving)
        {
            using var sentHash = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
            Exception? sendFailure = null;
            var sending = new Thread(() =>
            {
                try { sender.SendBytes(new PatternStream(Size, sentHash), Size); }
                catch (Exception e) { sendFailure = e; }
            });
            sending.Start();

            // Look at the header without consuming it: CPython's marker -1, then the length as 8 bytes.
            var sw = Stopwatch.StartNew();
            while (receiving.Available < 12)
                Assert.True(receiving.Poll(TimeSpan.FromSeconds(60), SelectMode.SelectRead) && sw.Elapsed < Long, "no header arrived");
            byte[] header = new byte[12];
            Assert.Equal(12, receiving.Receive(header, SocketFlags.Peek));
            Assert.Equal(-1, BinaryPrimitives.ReadInt32BigEndian(header));
            Assert.Equal(Size, BinaryPrimitives.ReadInt64BigEndian(header.AsSpan(4)));

            using Connection receiver = Connection.FromSocket(receiving);
            using var sink = new HashingStream();
            Assert.Equal(Size, receiver.RecvBytesInto(sink));
            Assert.True(sending.Join(Long));
            Assert.Null(sendFailure);
            Assert.Equal(Size, sink.Length);
            Assert.Equal(sentHash.GetHashAndReset(), sink.Hash());
        }
    }

    [Fact]
    public void A_long_header_beyond_what_a_byte_array_holds_is_refused_without_allocating()
    {
        (Socket raw, Connection conn) = ConnectionTests.RawPair();
        using (raw)
        using (conn)
        {
            conn.MaxMessageLength = long.MaxValue; // even then: a byte[] cannot hold 3 GiB
            byte[] header = new byte[12];
            BinaryPrimitives.WriteInt32BigEndian(header, -1);
            BinaryPrimitives.WriteInt64BigEndian(header.AsSpan(4), 3L * 1024 * 1024 * 1024);
            raw.Send(header);
            long before = GC.GetAllocatedBytesForCurrentThread();
            var e = Assert.Throws<InvalidDataException>(() => conn.RecvBytes());
            Assert.True(GC.GetAllocatedBytesForCurrentThread() - before < 1024 * 1024);
            Assert.StartsWith("bad message length", e.Message);
        }
    }

    /// <summary>
    /// <paramref name="length"/> bytes of a 1 MiB random block repeated, each repetition stamped
    /// with its index (so a lost, repeated or reordered chunk changes the hash); hashes what it gives out.
    /// </summary>
    private sealed class PatternStream(long length, IncrementalHash hash) : Stream
    {
        private const int Block = 1024 * 1024;
        private static readonly byte[] s_block = RandomNumberGenerator.GetBytes(Block);
        private long _position;

        public override int Read(byte[] buffer, int offset, int count)
        {
            int n = (int)Math.Min(count, length - _position);
            Span<byte> stamp = stackalloc byte[8];
            for (int done = 0; done < n;)
            {
                long index = (_position + done) / Block;
                int inBlock = (int)((_position + done) % Block);
                int take = Math.Min(n - done, Block - inBlock);
                Span<byte> target = buffer.AsSpan(offset + done, take);
                s_block.AsSpan(inBlock, take).CopyTo(target);
                BinaryPrimitives.WriteInt64LittleEndian(stamp, index);
                for (int i = inBlock; i < 8 && i < inBlock + take; i++) target[i - inBlock] = stamp[i];
                done += take;
            }
            hash.AppendData(buffer, offset, n);
            _position += n;
            return n;
        }

        public override bool CanRead => true;
        public override bool CanSeek => false;
        public override bool CanWrite => false;
        public override long Length => length;
        public override long Position { get => _position; set => throw new NotSupportedException(); }
        public override void Flush() { }
        public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();
        public override void SetLength(long value) => throw new NotSupportedException();
        public override void Write(byte[] buffer, int offset, int count) => throw new NotSupportedException();
    }

    /// <summary>A write-only sink that keeps only a hash and a count.</summary>
    private sealed class HashingStream : Stream
    {
        private readonly IncrementalHash _hash = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
        private long _length;

        public byte[] Hash() => _hash.GetHashAndReset();

        public override void Write(byte[] buffer, int offset, int count)
        {
            _hash.AppendData(buffer, offset, count);
            _length += count;
        }

        public override bool CanRead => false;
        public override bool CanSeek => false;
        public override bool CanWrite => true;
        public override long Length => _length;
        public override long Position { get => _length; set => throw new NotSupportedException(); }
        public override void Flush() { }
        public override int Read(byte[] buffer, int offset, int count) => throw new NotSupportedException();
        public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();
        public override void SetLength(long value) => throw new NotSupportedException();

        protected override void Dispose(bool disposing)
        {
            if (disposing) _hash.Dispose();
            base.Dispose(disposing);
        }
    }
}
