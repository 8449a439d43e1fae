using Microsoft.Win32.SafeHandles;
using Multiprocessing.Interop;

namespace Multiprocessing.Wire;

/// <summary>
/// The parent's end of a child's channel: blocking reads (the child's watch thread) and writes
/// (payloads, wake-ups) on a socket descriptor held by a <see cref="SafeFileHandle"/>, whose
/// reference count keeps the number from being closed and reused under a call in flight. Not a
/// <c>Socket</c> and <c>NetworkStream</c>: creating those ran the networking stack's event
/// sources (reflection over their attributes) and cost the first start of every program ~20 ms,
/// for a channel that only ever reads and writes whole frames.
/// </summary>
internal sealed class ChannelStream(SafeFileHandle handle) : Stream
{
    public SafeFileHandle Handle { get; } = handle;

    public override bool CanRead => !Handle.IsClosed;
    public override bool CanWrite => !Handle.IsClosed;
    public override bool CanSeek => false;

    public override int Read(Span<byte> buffer)
    {
        if (buffer.IsEmpty) return 0;
        bool added = false;
        try
        {
            Handle.DangerousAddRef(ref added); // ObjectDisposedException once disposed
            return Libc.Read((int)Handle.DangerousGetHandle(), buffer);
        }
        finally
        {
            if (added) Handle.DangerousRelease();
        }
    }

    public override int Read(byte[] buffer, int offset, int count)
    {
        ValidateBufferArguments(buffer, offset, count);
        return Read(buffer.AsSpan(offset, count));
    }

    public override void Write(ReadOnlySpan<byte> buffer)
    {
        bool added = false;
        try
        {
            Handle.DangerousAddRef(ref added);
            Libc.Write((int)Handle.DangerousGetHandle(), buffer);
        }
        finally
        {
            if (added) Handle.DangerousRelease();
        }
    }

    public override void Write(byte[] buffer, int offset, int count)
    {
        ValidateBufferArguments(buffer, offset, count);
        Write(buffer.AsSpan(offset, count));
    }

    public override void Flush() { }

    /// <summary>
    /// Shuts the socket down before letting go of the handle: a read blocked in another thread
    /// returns end of stream (closing alone would leave it blocked, and the descriptor's close
    /// waits for that read), and the child sees end of stream too, as it would from a close.
    /// </summary>
    protected override void Dispose(bool disposing)
    {
        if (disposing && !Handle.IsClosed)
        {
            try
            {
                Libc.Shutdown(Handle);
            }
            catch (ObjectDisposedException)
            {
                // Disposed meanwhile by the other thread.
            }
            Handle.Dispose();
        }
        base.Dispose(disposing);
    }

    public override long Length => throw new NotSupportedException();
    public override long Position { get => throw new NotSupportedException(); set => throw new NotSupportedException(); }
    public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();
    public override void SetLength(long value) => throw new NotSupportedException();
}
