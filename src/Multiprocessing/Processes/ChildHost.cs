using System.Runtime.InteropServices;
using Multiprocessing.Interop;
using Multiprocessing.Serialization;
using Multiprocessing.Spawning;
using Multiprocessing.Wire;
using Diag = System.Diagnostics;

namespace Multiprocessing;

/// <summary>
/// The child's side (CPython <c>spawn_main</c> + <c>BaseProcess._bootstrap</c>): take the
/// channel, read the payload, become the process the parent started, run it, report, exit.
/// The only library code that runs before the user's target.
/// </summary>
internal static class ChildHost
{
    private static DescriptorChannel? s_channel;
    /// <summary>1 while a frame is being written: frames from two threads must not interleave.</summary>
    private static int s_sending;
    private static PosixSignalRegistration? s_sigint;
    private static bool s_bootstrapping;
    /// <summary>The process the payload made of this one; null while bootstrapping (and in an idle spare).</summary>
    private static Process? s_self;

    /// <summary>
    /// The fork-bomb guard: a process launched as a child whose bootstrap never ran (a
    /// FreezeSupport app that forgot the call) must not start children of its own.
    /// </summary>
    internal static void CheckNotBootstrapping()
    {
        if (s_bootstrapping || Environment.GetEnvironmentVariable(ChildLaunch.ChannelVariable) is not null)
            throw new InvalidOperationException(
                "An attempt has been made to start a new process before the current process has finished its bootstrapping phase. " +
                "This probably means that the program is a trimmed or NativeAOT app whose Main does not call " +
                "Multiprocessing.Process.FreezeSupport() as its first statement.");
    }

    /// <summary>Entry from the library's own Main: returns the exit code, so the runtime then waits for foreground threads.</summary>
    internal static int RunMain(string[] args)
    {
        // The launch puts the child's facts on our command line; the environment is the fallback
        // for a host started by hand with the variables set.
        if ((ChildLaunch.ParseArguments(args) ?? TakeFromEnvironment()) is not { } start)
        {
            Console.Error.WriteLine("Multiprocessing.dll is the child host of the Multiprocessing library; Process.Start() runs it. There is nothing to do here.");
            return 2;
        }
        return Run(start);
    }

    /// <summary>Entry from a startup hook or FreezeSupport: runs the child and exits, or returns if this is no child.</summary>
    internal static void RunIfChild(bool exitWhenDone)
    {
        if (TakeFromEnvironment() is not { } start) return;
        int code = Run(start);
        if (exitWhenDone) Environment.Exit(code);
    }

    /// <summary>The launch facts of a child started through the app's own executable; grandchildren must not see them.</summary>
    private static ChildStart? TakeFromEnvironment()
    {
        if (ChildLaunch.ParseDescriptor(Environment.GetEnvironmentVariable(ChildLaunch.ChannelVariable)) is not { } fd) return null;
        // Grandchildren must not see these: they would take our channel for theirs.
        Environment.SetEnvironmentVariable(ChildLaunch.ChannelVariable, null);
        Environment.SetEnvironmentVariable(ChildLaunch.StartupHooksVariable, null);
        string? list = Environment.GetEnvironmentVariable(ChildLaunch.DescriptorsVariable);
        Environment.SetEnvironmentVariable(ChildLaunch.DescriptorsVariable, null);
        bool spare = Environment.GetEnvironmentVariable(ChildLaunch.SpareVariable) is not null;
        Environment.SetEnvironmentVariable(ChildLaunch.SpareVariable, null);
        return new ChildStart(fd, list is null ? EmptyInts.Value : ChildLaunch.ParseDescriptorList(list), spare);
    }

    private static int Run(ChildStart start)
    {
        s_bootstrapping = true;
        (int fd, int[] inherited, bool spare) = start;
        Libc.SetCloseOnExec(fd, true);
        foreach (int passed in inherited) Libc.SetCloseOnExec(passed, true); // ours now; a grandchild gets them only if passed again
        // A spare closes its strays at once (it may idle for long, and must not hold the parent's
        // pipes open meanwhile) and can afford to find its table size itself; a spawned child
        // waits for the bound its parent sends with the payload, before any of the payload runs.
        if (spare) StrayDescriptors.CloseInChild(fd, inherited, StrayDescriptors.TableSize() ?? 0);
        // Plain reads and writes on the descriptor, not a Socket: a Socket loads two assemblies,
        // and .NET's first send or receive on one starts the networking EventSource, whose setup
        // loads ICU (~30 ms of CPU). A child that never needs sockets or culture data boots like
        // a hello-world; ParentProcess makes its Socket only when asked about the parent.
        var channel = new DescriptorChannel(fd);
        s_channel = channel;
        PrepareProcessState();

        if (spare)
        {
            SpareWarmUp.Run();
            try { Send(ChannelMessage.Create(ChannelMessageKind.Ready, [])); }
            catch (Exception e) when (e is IOException or ObjectDisposedException)
            {
                // The parent is gone: the read below sees EOF and this spare exits.
            }
        }

        Process self;
        try
        {
            byte[]? frame;
            try
            {
                frame = Framing.Read(channel);
                while (spare && frame is not null && ChannelMessage.Kind(frame) == ChannelMessageKind.Wake)
                {
                    AwaitPayload(channel);
                    frame = Framing.Read(channel);
                }
            }
            catch (IOException) when (spare)
            {
                // The parent closed with our Ready frame unread, which a Unix socket reports as a
                // reset: like EOF, a spare that was never needed.
                return 0;
            }
            if (frame is null && spare) return 0; // a forkserver spare that was never needed: its parent is gone
            if (frame is null) throw NoPayload();
            ChannelMessageKind kind = ChannelMessage.Kind(frame);
            if (kind != ChannelMessageKind.Bootstrap) throw NotBootstrap(kind);
            byte[] payload = ChannelMessage.ReadBootstrap(frame, out int tableSize, out int[] passed);
            if (!spare) StrayDescriptors.CloseInChild(fd, inherited, tableSize);
            // A spare's descriptors came with the frame; a spawned child's are inherited under their numbers.
            DescriptorTable descriptors = passed.Length > 0
                ? DescriptorTable.Received(passed, channel.TakeReceivedDescriptors())
                : DescriptorTable.Inherited(inherited);
            self = ProcessPayload.Decode(payload, descriptors);
        }
        catch (Exception e)
        {
            Fail("Multiprocessing child host: bootstrap failed:", e);
            return 1;
        }

        // CPython _bootstrap: become the current process, know the parent (stdin arrived closed: HostLauncher).
        var parent = new ParentProcess(self.ParentNameForChild, self.ParentPidForChild, fd);
        Process.BecomeChild(self, parent);
        Context.Force(self.StartMethodName);
        Volatile.Write(ref s_self, self);
        if (self.KillOnParentDeath) StartParentDeathWatch(parent);
        s_bootstrapping = false;

        try
        {
            self.Run();
            return 0;
        }
        catch (Exception e)
        {
            Fail("Process " + self.Name + ":", Unwrap(e));
            return 1;
        }
    }

    // What fails is made and printed out of line: a ReadyToRun method loads every type it names
    // when first entered (an interpolation's handler too), and Run is on every child's start path.
    private static EndOfStreamException NoPayload() => new("the parent closed the channel before sending the bootstrap payload");

    private static InvalidDataException NotBootstrap(ChannelMessageKind kind) => new($"expected a bootstrap message, got {kind}");

    private static Exception Unwrap(Exception e) => e is System.Reflection.TargetInvocationException { InnerException: { } inner } ? inner : e;

    /// <summary>CPython's report on stderr (<c>Process NAME:</c>, then the exception), then the exception to the parent.</summary>
    private static void Fail(string heading, Exception e)
    {
        try { Console.Error.Write($"{heading}\n{e}\n"); Console.Error.Flush(); } catch (Exception) { }
        Report(e);
    }

    /// <summary>
    /// The payload-independent half of CPython's <c>_bootstrap</c>, done before the payload is
    /// read: in a forkserver spare it then costs nothing at <c>Start()</c> (measured: the SIGINT
    /// registration ≈ 1–1.7 ms on first use). Until the payload has made this process a child,
    /// the handlers behave as if they were not there.
    /// </summary>
    private static void PrepareProcessState()
    {
        AppDomain.CurrentDomain.ProcessExit += (_, _) => OnExit();
        s_sigint = PosixSignalRegistration.Create(PosixSignal.SIGINT, ctx =>
        {
            // Not a child yet (a spare, or a bootstrap under way): the default action, as before any registration.
            if (Volatile.Read(ref s_self) is not { } self) return;
            // CPython: SIGINT raises KeyboardInterrupt in the child: "Process NAME:" and exit code 1.
            ctx.Cancel = true;
            Console.Error.WriteLine($"Process {self.Name}:\nKeyboardInterrupt");
            Environment.Exit(1);
        });
    }

    /// <summary>
    /// A forkserver spare told that its payload follows: watch for it for up to a millisecond
    /// rather than sleep, so the CPU is awake when it comes (measured on a 2-core VM: a sleeping
    /// spare woke ~0.15 ms after the payload was written, a watching one within ~15 µs). Then, or
    /// on a single core, where watching would take the CPU from the parent's encoding, it blocks.
    /// </summary>
    private static void AwaitPayload(DescriptorChannel channel)
    {
        if (Environment.ProcessorCount < 2) return;
        long until = Diag.Stopwatch.GetTimestamp() + Diag.Stopwatch.Frequency / 1000;
        while (!channel.HasDataNow && Diag.Stopwatch.GetTimestamp() < until) Thread.SpinWait(20);
    }

    private static void Report(Exception e)
    {
        try
        {
            Send(ChannelMessage.Create(ChannelMessageKind.Exception, RemoteExceptionCodec.Encode(e)));
        }
        catch (Exception sendFailure) when (sendFailure is IOException or ObjectDisposedException or System.Runtime.Serialization.SerializationException)
        {
            // The parent is gone or the exception cannot be encoded: stderr already has it.
        }
    }

    private static void Send(byte[] message)
    {
        // A flag, not a Lock: every child writes its exit frame on the way out, and a process's
        // first Lock costs ~0.7 ms cold (LazyLock). Two writers at once are rare (an exit during
        // an exception report), so the loser yields rather than sleeps.
        while (Interlocked.CompareExchange(ref s_sending, 1, 0) != 0) Thread.Yield();
        try
        {
            if (s_channel is { } c) Framing.Write(c, message);
        }
        finally
        {
            Volatile.Write(ref s_sending, 0);
        }
    }

    /// <summary>
    /// At normal exit (Main returned after foreground threads, or Environment.Exit): the exit
    /// function, flushed streams, then the exit frame. A death by signal never gets here, which
    /// is how the parent tells <c>exit(137)</c> from SIGKILL.
    /// </summary>
    private static void OnExit()
    {
        if (Volatile.Read(ref s_self) is null) return; // no payload became this process: nobody awaits an exit frame
        try { Process.RunExitFunction(); } catch (Exception) { }
        ConsoleFlush.FlushCreatedWriters();
        try { Send(ChannelMessage.CreateExit(Environment.ExitCode)); } catch (Exception) { }
    }

    /// <summary>
    /// KillOnParentDeath: the parent never writes after the payload, so the channel turning
    /// readable means end of stream, i.e. the parent's death (SIGKILL included). No
    /// PR_SET_PDEATHSIG: it fires when the parent's forking thread exits, not the parent.
    /// </summary>
    private static void StartParentDeathWatch(ParentProcess parent)
    {
        var watcher = new Thread(() =>
        {
            parent.Join();
            Libc.Kill(Environment.ProcessId, Libc.SIGKILL);
        })
        { IsBackground = true, Name = "Multiprocessing parent-death watch" };
        watcher.Start();
    }
}
