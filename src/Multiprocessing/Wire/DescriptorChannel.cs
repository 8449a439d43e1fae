using Multiprocessing.Interop;

namespace Multiprocessing.Wire;

/// <summary>
/// Blocking reads and writes on a socket descriptor this object owns: the child host's channel,
/// which only ever reads a payload and writes a few frames (<see cref="Framing"/> has overloads
/// for it). Not a <see cref="FileStream"/>: that one's handle, strategy classes and <c>lseek</c>
/// probe were two dozen type loads and method fix-ups of every spawned child before its target.
/// Not a <see cref="Stream"/> at all: <c>Stream</c>'s constructor lies in a 64 KiB window of
/// CoreLib's image that nothing else on a child's start path reaches (EmptyInts says what a
/// window costs; pagemap of an idle child: 16 fewer resident CoreLib pages).
/// </summary>
internal sealed class DescriptorChannel(int fd) : IDisposable
{
    private int _fd = fd;

    // A small read takes what the descriptor has, up to this buffer, in one system call: a frame's
    // 4-byte header and its body then cost one read(2), not two (with page-table isolation each
    // system call costs a forkserver child several µs and a cold TLB on its way to the target).
    private readonly byte[] _ahead = new byte[4096];
    private int _aheadStart, _aheadEnd;
    // Descriptors a forkserver parent passed with a payload (SCM_RIGHTS), in arrival order.
    private int[]? _received;

    /// <summary>False once disposed.</summary>
    public bool IsOpen => _fd >= 0;

    // Reads go through a pinned pointer, and the array overload is the one Framing calls: a child
    // host's reads take no span (ByteCursor says why).
    public unsafe int Read(byte[] buffer, int offset, int count)
    {
        if (buffer is null || (uint)offset > (uint)buffer.Length || (uint)count > (uint)(buffer.Length - offset)) throw InvalidBuffer(buffer);
        if (count == 0) return 0;
        fixed (byte* p = &buffer[offset]) return Read(p, count);
    }

    private unsafe int Read(byte* buffer, int count)
    {
        if (_aheadStart == _aheadEnd)
        {
            if (count >= _ahead.Length) return Receive(buffer, count, dontWait: false);
            _aheadStart = 0;
            fixed (byte* ahead = _ahead) _aheadEnd = Receive(ahead, _ahead.Length, dontWait: false);
            if (_aheadEnd == 0) return 0;
        }
        int n = Math.Min(count, _aheadEnd - _aheadStart);
        fixed (byte* ahead = &_ahead[_aheadStart]) Buffer.MemoryCopy(ahead, buffer, n, n);
        _aheadStart += n;
        return n;
    }

    // Out of line: a ReadyToRun method loads the types it names when first entered.
    private static ArgumentException InvalidBuffer(byte[]? buffer) => buffer is null
        ? new ArgumentNullException(nameof(buffer))
        : new ArgumentOutOfRangeException("count", "offset and count must lie within the buffer");

    /// <summary>
    /// Whether a read would return at once: bytes already taken in, or bytes (or the end of the
    /// stream) the socket has now, which this takes into the read-ahead buffer without waiting.
    /// </summary>
    public bool HasDataNow
    {
        get
        {
            if (_aheadStart < _aheadEnd) return true;
            int n;
            unsafe
            {
                fixed (byte* ahead = _ahead) n = Receive(ahead, _ahead.Length, dontWait: true);
            }
            if (n < 0) return false;
            (_aheadStart, _aheadEnd) = (0, n); // 0: the end of the stream, which the next read reports
            return true;
        }
    }

    /// <summary>
    /// On Linux recvmsg(2), which keeps descriptors passed with the bytes (a plain read would
    /// drop and close them); elsewhere nothing is passed, and read(2) / recv(2) do.
    /// </summary>
    private unsafe int Receive(byte* buffer, int count, bool dontWait)
    {
        if (OperatingSystem.IsLinux()) return Libc.ReceiveWithDescriptors(Descriptor, buffer, count, dontWait, ref _received);
        return dontWait ? Libc.ReceiveNow(Descriptor, buffer, count) : Libc.Read(Descriptor, buffer, count);
    }

    /// <summary>The descriptors received so far, in order, handed over once.</summary>
    public int[] TakeReceivedDescriptors()
    {
        int[] taken = _received ?? EmptyInts.Value;
        _received = null;
        return taken;
    }

    public void Write(ReadOnlySpan<byte> buffer) => Libc.Write(Descriptor, buffer);

    private int Descriptor => _fd >= 0 ? _fd : throw Disposed();

    private static ObjectDisposedException Disposed() => new(nameof(DescriptorChannel)); // out of line, as InvalidBuffer

    /// <summary>Closes the descriptor; again is a no-op.</summary>
    public void Dispose()
    {
        int fd = Interlocked.Exchange(ref _fd, -1);
        if (fd >= 0) Libc.Close(fd);
    }
}
