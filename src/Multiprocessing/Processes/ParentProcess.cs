using System.Net.Sockets;

namespace Multiprocessing;

/// <summary>
/// The parent as a child sees it (CPython <c>_ParentProcess</c>): its pid and name, and
/// whether it is still alive. It learns of the parent's death through EOF on the process
/// channel, whose other end only the parent holds.
/// </summary>
public sealed class ParentProcess
{
    private readonly int _channelFd;
    private Socket? _channel;

    // channelFd: the child's end of its process channel, owned by the child host.
    internal ParentProcess(string name, int pid, int channelFd)
    {
        Name = name;
        Pid = pid;
        _channelFd = channelFd;
    }

    /// <summary>
    /// Made on first use: a Socket loads two assemblies, and .NET's first send or receive on one
    /// starts the networking EventSource, which loads ICU; a child that never asks about its
    /// parent should not pay for either.
    /// </summary>
    private Socket Channel => _channel ??= new Socket(new SafeSocketHandle(_channelFd, ownsHandle: false));

    /// <summary>The parent's pid.</summary>
    public int Pid { get; }

    /// <summary>Alias of <see cref="Pid"/>.</summary>
    public int Ident => Pid;

    /// <summary>The parent's name when it started this child.</summary>
    public string Name { get; }

    /// <summary>True while the parent process is alive.</summary>
    public bool IsAlive => !Join(TimeSpan.Zero);

    /// <summary>
    /// Waits for the parent to die; null waits forever, zero or negative polls. True if it has died.
    /// A join that returns true returns after this process has been reparented, so
    /// <c>getppid()</c> no longer names the dead parent.
    /// </summary>
    public bool Join(TimeSpan? timeout = null)
    {
        long micros = timeout is not { } t ? -1 : t <= TimeSpan.Zero ? 0 : (long)Math.Min(t.TotalMicroseconds, int.MaxValue);
        bool eof;
        try
        {
            // The parent sends nothing after the bootstrap payload: readable means end of stream.
            eof = Channel.Poll(micros == -1 ? -1 : (int)micros, SelectMode.SelectRead);
        }
        catch (ObjectDisposedException)
        {
            eof = true;
        }
        if (eof) AwaitReparenting();
        return eof;
    }

    /// <summary>
    /// A dying process's descriptors close (our EOF) a moment before the kernel reparents its
    /// children; waiting out that window makes "joined" mean "gone" (bounded: a pid reused by
    /// a new parent in between can't hold this up).
    /// </summary>
    private void AwaitReparenting()
    {
        long deadline = Environment.TickCount64 + 1000;
        while (Interop.Libc.GetParentPid() == Pid && Environment.TickCount64 < deadline) Thread.Sleep(1);
    }

    /// <summary>CPython's repr: <c>&lt;_ParentProcess name='MainProcess' parent=None unknown&gt;</c>.</summary>
    public override string ToString() => $"<_ParentProcess name={PyRepr.Str(Name)} parent=None unknown>";
}
