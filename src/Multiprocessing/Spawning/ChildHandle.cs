using Microsoft.Win32.SafeHandles;
using Multiprocessing.Interop;
using Multiprocessing.Wire;
using Diag = System.Diagnostics;

namespace Multiprocessing.Spawning;

/// <summary>
/// The parent's hold on one running child: its pid, its channel, and a task that completes
/// with CPython's exit code once the channel has closed <em>and</em> the OS process is gone
/// (a join never returns while the process still exists).
/// </summary>
internal sealed class ChildHandle : IDisposable
{
    private readonly Diag.Process _os;
    private readonly ChannelStream _stream;
    private readonly TaskCompletionSource<int> _exited = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private readonly TaskCompletionSource _ready = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private int? _reportedExit;
    private int _disposed;

    /// <summary>
    /// Takes hold of a launched child and starts watching its channel at once: for a forkserver
    /// spare that is long before its start, so a start pays nothing for the watch.
    /// </summary>
    /// <param name="os">The child's OS process.</param>
    /// <param name="channel">The parent's end of the child's channel.</param>
    internal ChildHandle(Diag.Process os, SafeFileHandle channel)
    {
        _os = os;
        _stream = new ChannelStream(channel);
        Pid = os.Id;
        new Thread(Watch, WatchStackSize) { IsBackground = true, Name = "Multiprocessing child watch" }.Start();
    }

    // The watch's loop is shallow: frames are read and parsed, nothing is called out of it.
    private const int WatchStackSize = 256 * 1024;

    /// <summary>Tells a forkserver spare that its payload is on its way (<see cref="ChannelMessageKind.Wake"/>).</summary>
    internal void SendWake()
    {
        try
        {
            _stream.Write(s_wake);
        }
        catch (Exception e) when (e is IOException or ObjectDisposedException)
        {
            // A dead spare (its watch closes the channel once it has seen the exit): the start
            // that follows prunes it and finds out.
        }
    }

    // Framed once: it is written on the way to a start's payload.
    private static readonly byte[] s_wake = Framing.Frame(ChannelMessage.Create(ChannelMessageKind.Wake, []));

    /// <summary>Sends the start payload.</summary>
    /// <param name="bootstrap">The serialized start payload.</param>
    /// <param name="tableSize">Sent with the payload: the parent's descriptor table size, read after the fork, for the child's stray-descriptor probe; 0 when the child closes its strays itself (a forkserver spare).</param>
    /// <param name="passed">Descriptors the payload names that the child did not inherit (a spare booted before they existed): sent with the frame's first byte (SCM_RIGHTS), their numbers here in the message.</param>
    internal void SendBootstrap(byte[] bootstrap, int tableSize, IReadOnlyList<int> passed)
    {
        try
        {
            byte[] message = ChannelMessage.CreateBootstrap(tableSize, passed, bootstrap);
            if (passed.Count == 0)
            {
                Framing.Write(_stream, message);
                return;
            }
            byte[] frame = Framing.Frame(message);
            int[] fds = [.. passed];
            int sent = Libc.SendWithDescriptors(_stream.Handle, frame.AsSpan(0, 1), fds);
            _stream.Write(frame, sent, frame.Length - sent);
        }
        catch (IOException)
        {
            // The child died before reading its payload (e.g. the host could not start):
            // its exit status, observed below, tells the story.
        }
    }

    /// <summary>
    /// True when the child's end of the channel is closed with nothing left to read: a child
    /// that died shows it here before the runtime has reaped it (and before the watch has seen it).
    /// </summary>
    internal bool ChannelEnded
    {
        get
        {
            try
            {
                return Libc.PeerClosed(_stream.Handle);
            }
            catch (ObjectDisposedException)
            {
                return true;
            }
        }
    }

    public int Pid { get; }

    /// <summary>Completes when a forkserver spare says it has warmed up (a Ready frame).</summary>
    public Task Ready => _ready.Task;

    /// <summary>Completes with the exit code: ≥ 0 for an exit, −signum for a death by signal.</summary>
    public Task<int> Exited => _exited.Task;

    /// <summary>The exception frame the child sent, if its target raised.</summary>
    public byte[]? ExceptionData { get; private set; }

    /// <summary>
    /// A thread per child, blocked in a read of its channel until end of stream, then until the
    /// OS process is gone. Not an async read: its state machines (ours over the channel and the
    /// frame reader, instantiated over the runtime's builders) could not be precompiled and were
    /// ~40 methods JIT-compiled in the first start of every program, and the socket engine's
    /// epoll thread started for them; a blocked read also wakes at once when the child exits,
    /// without a hop through that thread and the thread pool. Disposing the stream unblocks it.
    /// </summary>
    private void Watch()
    {
        try
        {
            while (Framing.Read(_stream, Framing.DefaultMaxMessageLength) is { } frame)
            {
                ChannelMessageKind kind = ChannelMessage.Parse(frame, out ReadOnlyMemory<byte> body);
                if (kind == ChannelMessageKind.Exit && ChannelMessage.ExitCode(body.Span) is { } code)
                    _reportedExit = code;
                else if (kind == ChannelMessageKind.Exception)
                    ExceptionData = body.ToArray();
                else if (kind == ChannelMessageKind.Ready)
                    _ready.TrySetResult();
            }
        }
        catch (Exception)
        {
            // A broken or garbled channel (IOException, InvalidDataException, a disposed stream):
            // the child is gone or going, and its OS exit status decides. Nothing may escape a
            // thread of this library's own: it would take the parent down.
        }
        try
        {
            if (AwaitZombie() is { } status)
                _exited.TrySetResult(ExitCodeFrom(status, _reportedExit));
            else
            {
                _os.WaitForExit();
                _exited.TrySetResult(ExitCodeFrom(_os.ExitCode, _reportedExit));
            }
        }
        catch (Exception e)
        {
            _exited.TrySetException(e);
        }
        finally
        {
            _stream.Dispose();
        }
    }

    /// <summary>
    /// The exit status, looked at without reaping, once end of stream has come: a dying child's
    /// descriptors close just before the kernel has taken down its other threads and made it a
    /// zombie (in half the joins of a no-op child it was not one yet at end of stream). A zombie
    /// has ended: it holds no memory, descriptors or CPU. The runtime's own path to the same
    /// status (SIGCHLD, its signal thread, the thread pool's wait thread, the Exited event) took
    /// ~1.4–1.8 ms more per join on a 2-core VM. Null when the runtime has reaped it already,
    /// after a millisecond (a child still running with its channel closed), or where the status
    /// cannot be peeked at: the runtime's path then decides.
    /// </summary>
    private int? AwaitZombie()
    {
        if (!Libc.CanPeekExit) return null;
        long deadline = Diag.Stopwatch.GetTimestamp() + Diag.Stopwatch.Frequency / 1000;
        var spin = new SpinWait();
        while (true)
        {
            switch (Libc.PeekExit(Pid, out int status))
            {
                case true: return status;
                case null: return null;
            }
            if (Diag.Stopwatch.GetTimestamp() > deadline) return null;
            spin.SpinOnce(sleep1Threshold: -1);
        }
    }

    /// <summary>
    /// CPython's exitcode from what .NET 10 can see. <see cref="Diag.Process.ExitCode"/> reports a
    /// death by signal N as 128+N, the same as <c>exit(128+N)</c>; the child's own exit frame
    /// (sent from ProcessExit, which a signal death never runs) tells the two apart, so
    /// <c>Environment.Exit(137)</c> reports 137 while SIGKILL reports −9.
    /// </summary>
    internal static int ExitCodeFrom(int osExitCode, int? reportedExit)
    {
        if (reportedExit is not null) return osExitCode;
        if (!OperatingSystem.IsWindows() && osExitCode is > 128 and < 128 + 65) return -(osExitCode - 128);
        return osExitCode;
    }

    /// <summary>Sends a signal unless the child has already been reaped (its pid may belong to another process by now).</summary>
    public void Signal(int signal)
    {
        if (_exited.Task.IsCompleted) return;
        try
        {
            if (_os.HasExited) return;
        }
        catch (InvalidOperationException) { return; }
        if (signal == Libc.SIGKILL)
        {
            try { _os.Kill(); } catch (InvalidOperationException) { }
            return;
        }
        if (Libc.Kill(Pid, signal) != 0 && Libc.Errno != Libc.ESRCH)
            throw new IOException($"kill({Pid}, {signal}) failed (errno {Libc.Errno})");
    }

    public void Dispose()
    {
        if (Interlocked.Exchange(ref _disposed, 1) != 0) return;
        _stream.Dispose();
        _os.Dispose();
    }
}
