using Multiprocessing.Interop;

namespace Multiprocessing.Wire;

/// <summary>
/// Blocking reads and writes on a descriptor this stream owns: the child host's channel. Not a
/// <see cref="FileStream"/>: that one's handle, strategy classes and <c>lseek</c> probe were two
/// dozen type loads and method fix-ups of every spawned child before its target, for a stream
/// that only ever reads a payload and writes a few frames.
/// </summary>
internal sealed class DescriptorStream(int fd) : Stream
{
    private int _fd = fd;

    public override bool CanRead => _fd >= 0;
    public override bool CanWrite => _fd >= 0;
    public override bool CanSeek => false;

    public override int Read(Span<byte> buffer) => buffer.IsEmpty ? 0 : Libc.Read(Descriptor, buffer);

    public override int Read(byte[] buffer, int offset, int count)
    {
        ValidateBufferArguments(buffer, offset, count);
        return Read(buffer.AsSpan(offset, count));
    }

    public override void Write(ReadOnlySpan<byte> buffer) => Libc.Write(Descriptor, buffer);

    public override void Write(byte[] buffer, int offset, int count)
    {
        ValidateBufferArguments(buffer, offset, count);
        Write(buffer.AsSpan(offset, count));
    }

    public override void Flush() { }

    private int Descriptor => _fd >= 0 ? _fd : throw new ObjectDisposedException(nameof(DescriptorStream));

    protected override void Dispose(bool disposing)
    {
        int fd = Interlocked.Exchange(ref _fd, -1);
        if (fd >= 0) Libc.Close(fd);
        base.Dispose(disposing);
    }

    public override long Length => throw new NotSupportedException();
    public override long Position { get => throw new NotSupportedException(); set => throw new NotSupportedException(); }
    public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();
    public override void SetLength(long value) => throw new NotSupportedException();
}
