using System.Diagnostics;
using Xunit;

namespace Multiprocessing.Tests.Processes;

/// <summary>
/// Connections given to children (argument, captured variable, Process subclass field), waits
/// that mix connections with sentinels (item 85, CPython TestWait), and what a child must not
/// receive. Every connection made here is closed when the test ends.
/// </summary>
public abstract partial class ProcessSuite
{
    private readonly List<Connection> _connections = [];

    private (Connection, Connection) Pipe(bool duplex = true)
    {
        (Connection a, Connection b) = Connection.Pipe(duplex);
        lock (_connections)
        {
            _connections.Add(a);
            _connections.Add(b);
        }
        return (a, b);
    }

    /// <summary>The <c>socket:[inode]</c> identities of every socket in this process's descriptor table.</summary>
    private static string[] SocketIdentities()
    {
        var result = new List<string>();
        foreach (string entry in Directory.EnumerateFileSystemEntries("/proc/self/fd"))
        {
            try
            {
                if (new FileInfo(entry).LinkTarget is { } target && target.StartsWith("socket:", StringComparison.Ordinal)) result.Add(target);
            }
            catch (IOException) { } // the enumeration's own descriptor, gone by now
        }
        return [.. result];
    }

    private static string SocketIdentity(Connection c) => new FileInfo($"/proc/self/fd/{c.Descriptor}").LinkTarget!;

    /// <summary>CPython's <c>_echo</c>: echo byte messages until the sentinel message, then close.</summary>
    private static void EchoBytes(Connection conn)
    {
        while (true)
        {
            byte[] msg = conn.RecvBytes();
            if (msg.AsSpan().SequenceEqual("STOP"u8)) break;
            conn.SendBytes(msg);
        }
        conn.Close();
    }

    private static void SendTenThenClose(Connection w)
    {
        for (int i = 0; i < 10; i++) w.Send((i, Environment.ProcessId));
        w.Close();
    }

    private static void ReportSockets(Connection report) => report.Send(SocketIdentities());

    [Fact]
    public void Item085_wait_on_connections_and_a_sentinel_returns_the_sentinel_when_the_child_ends()
    {
        var (a, b) = Pipe();
        Process p = Make(() => Thread.Sleep(3000));
        var sw = Stopwatch.StartNew(); // from before Start: the child cannot end sooner than 3 s after this
        p.Start();
        IReadOnlyList<object> ready = Connection.Wait([a, p.Sentinel, b], TimeSpan.FromSeconds(23) + Long);
        TimeSpan waited = sw.Elapsed;
        Assert.Equal(new object[] { p.Sentinel }, ready);
        Assert.True(waited >= TimeSpan.FromSeconds(2.95), $"the sentinel was ready after {waited}, before the child could have ended");

        a.Send(null); // b becomes readable
        sw.Restart();
        ready = Connection.Wait([a, p.Sentinel, b], TimeSpan.FromSeconds(20));
        Assert.Equal(new object[] { p.Sentinel, b }, ready);
        Assert.True(sw.Elapsed < TimeSpan.FromSeconds(5), $"took {sw.Elapsed}");

        b.Send(null);
        Assert.Equal(new object[] { a, p.Sentinel, b }, Connection.Wait([a, p.Sentinel, b], TimeSpan.FromSeconds(20)));
        Assert.True(p.Join(Long));
    }

    [Fact]
    public void TestWait_test_wait_collects_ten_messages_from_each_of_four_children_until_each_reports_EOF()
    {
        var readers = new List<object>();
        var procs = new List<Process>();
        for (int i = 0; i < 4; i++)
        {
            var (r, w) = Pipe(duplex: false);
            Process p = Make((Action<Connection>)SendTenThenClose, [w]);
            p.Daemon = true;
            p.Start();
            w.Close(); // only the child holds the writer now: its close is our EOF
            procs.Add(p);
            readers.Add(r);
        }

        var messages = new List<(int, int)>();
        var sw = Stopwatch.StartNew();
        while (readers.Count > 0)
        {
            Assert.True(sw.Elapsed < Long, $"{readers.Count} readers still open after {Long}");
            foreach (object ready in Connection.Wait(readers, Long))
            {
                var r = (Connection)ready;
                try
                {
                    messages.Add(r.Recv<(int, int)>());
                }
                catch (EndOfStreamException)
                {
                    readers.Remove(r);
                    r.Close();
                }
            }
        }
        var expected = procs.SelectMany(p => Enumerable.Range(0, 10).Select(i => (i, p.Pid!.Value))).Order().ToList();
        Assert.Equal(expected, messages.Order().ToList());
        procs.ForEach(p => Assert.True(p.Join(Long)));
    }

    [Fact]
    public void test_spawn_close_the_parent_may_close_the_childs_end_right_after_Start()
    {
        var (conn, childConn) = Pipe();
        Process p = Make((Action<Connection>)EchoBytes, [childConn]);
        p.Daemon = true;
        p.Start();
        childConn.Close(); // this might complete before the child initializes
        conn.SendBytes("hello"u8);
        Assert.Equal("hello"u8.ToArray(), conn.RecvBytes());
        conn.SendBytes("STOP"u8);
        Assert.Throws<EndOfStreamException>(() => conn.RecvBytes()); // the child closed its end
        Assert.True(p.Join(Long));
        Assert.Equal(0, p.ExitCode);
    }

    [Fact]
    public void A_captured_connection_works_both_ways_in_the_child()
    {
        var (parentEnd, childEnd) = Pipe();
        Process p = Make(() =>
        {
            int n = childEnd.Recv<int>();
            childEnd.Send(n * 2);
            childEnd.Send(childEnd.Recv<string>().ToUpperInvariant());
        });
        p.Start();
        childEnd.Close();
        parentEnd.Send(21);
        Assert.Equal(42, parentEnd.Recv<int>());
        parentEnd.Send("up");
        Assert.Equal("UP", parentEnd.Recv<string>());
        Assert.Equal(0, RunToEndStarted(p));
    }

    private sealed class UpperProcess : Process
    {
        private readonly Connection _parentConn;
        private readonly Connection _childConn;

        public UpperProcess() => (_parentConn, _childConn) = Connection.Pipe();

        public override void Run()
        {
            _parentConn.Close();
            while (_childConn.Recv<string?>() is { } s) _childConn.Send(s.ToUpperInvariant());
            _childConn.Close();
        }

        public string Submit(string s)
        {
            _parentConn.Send(s);
            return _parentConn.Recv<string>();
        }

        public void Stop()
        {
            _parentConn.Send(null);
            _parentConn.Close();
            _childConn.Close();
        }
    }

    [Fact]
    public void test_subclassing_connection_fields_travel_with_the_Process_subclass()
    {
        var p = (UpperProcess)Track(new UpperProcess { Daemon = true });
        p.Start();
        Assert.Equal("HELLO", p.Submit("hello"));
        Assert.Equal("WORLD", p.Submit("world"));
        p.Stop();
        Assert.True(p.Join(Long));
        Assert.Equal(0, p.ExitCode);
    }

    [Fact]
    public void A_connection_passed_on_to_a_grandchild_still_reaches_the_parent()
    {
        var (reader, writer) = Pipe(duplex: false);
        Process p = Make((Action<Connection>)(w =>
        {
            var grandchild = new Process((Action<Connection>)(gw => gw.Send("from the grandchild")), [w]);
            grandchild.Start();
            grandchild.Join();
            w.Send("from the child");
        }), [writer]);
        p.Start();
        writer.Close();
        Assert.Equal("from the grandchild", reader.Recv<string>());
        Assert.Equal("from the child", reader.Recv<string>());
        Assert.True(p.Join(Long));
        Assert.Equal(0, p.ExitCode);
        Assert.Throws<EndOfStreamException>(() => reader.Recv());
    }

    [Fact]
    public void A_child_holds_only_the_connections_it_was_given_never_a_siblings_or_an_unreferenced_one()
    {
        var (report1, child1) = Pipe();
        var (report2, child2) = Pipe();
        var (stray1, stray2) = Pipe(); // exists in the parent, referenced by no target
        Process p1 = Make((Action<Connection>)ReportSockets, [child1]);
        Process p2 = Make((Action<Connection>)ReportSockets, [child2]);
        p1.Start();
        p2.Start(); // p1 is alive meanwhile: its pipe must not leak into p2
        string[] seen1 = report1.Recv<string[]>();
        string[] seen2 = report2.Recv<string[]>();

        Assert.Contains(SocketIdentity(child1), seen1);
        Assert.Contains(SocketIdentity(child2), seen2);
        foreach (Connection other in new[] { report1, report2, child2, stray1, stray2 })
            Assert.DoesNotContain(SocketIdentity(other), seen1);
        foreach (Connection other in new[] { report1, report2, child1, stray1, stray2 })
            Assert.DoesNotContain(SocketIdentity(other), seen2);
        Assert.True(p1.Join(Long));
        Assert.True(p2.Join(Long));
    }

    [Fact]
    public void A_closure_sends_only_the_captured_connections_its_code_uses()
    {
        var (report, used) = Pipe();
        var (unused, unusedPeer) = Pipe();
        Action elsewhere = () => unused.Close(); // puts 'unused' in the same compiler closure object as 'used'
        Process p = Make(() => used.Send(SocketIdentities()));
        p.Start();
        string[] seen = report.Recv<string[]>();
        Assert.Contains(SocketIdentity(used), seen);
        Assert.DoesNotContain(SocketIdentity(unused), seen);
        Assert.DoesNotContain(SocketIdentity(unusedPeer), seen);
        Assert.True(p.Join(Long));
        GC.KeepAlive(elsewhere);
    }

    private static async Task AnswerAsync(Connection c) => await c.SendAsync(await c.RecvAsync<int>() + 1);

    [Fact]
    public void An_end_shared_with_a_child_that_went_async_still_blocks_properly_in_the_parent()
    {
        // The child's async calls make the shared descriptor non-blocking for every process that
        // holds it; the parent's blocking receive on its own copy must still wait, not fail with EAGAIN.
        var (a, b) = Pipe();
        Process p = Make((Func<Connection, Task>)AnswerAsync, [b]);
        p.Start();
        a.Send(1);
        Assert.Equal(2, a.Recv<int>()); // the child has used b asynchronously by now
        Assert.True(p.Join(Long));

        var receive = Task.Run(() => b.Recv<string>());
        Assert.False(receive.Wait(TimeSpan.FromMilliseconds(300)), "a receive with nothing to read returned at once"); // still waiting, as it should
        a.Send("late");
        Assert.True(receive.Wait(Long));
        Assert.Equal("late", receive.Result);
    }

    private static void ReportIdentity(Connection x, Connection y) => x.Send(ReferenceEquals(x, y));

    [Fact]
    public void One_connection_given_twice_arrives_as_one_object()
    {
        var (parentEnd, childEnd) = Pipe();
        Process p = Make((Action<Connection, Connection>)ReportIdentity, [childEnd, childEnd]);
        p.Start();
        Assert.True(parentEnd.Recv<bool>());
        Assert.True(p.Join(Long));
        Assert.Equal(0, p.ExitCode);
    }

    [Fact]
    public void Starting_a_child_with_a_closed_connection_is_handle_is_closed_in_the_parent()
    {
        var (a, _) = Pipe();
        a.Close();
        Process p = Make((Action<Connection>)SendTenThenClose, [a]);
        Assert.Equal("handle is closed", Assert.Throws<InvalidOperationException>(p.Start).Message);
    }

    /// <summary>Joins an already started child with a hard bound and returns its exit code.</summary>
    private static int RunToEndStarted(Process p)
    {
        Assert.True(p.Join(Long), $"{p} did not end within {Long}");
        return p.ExitCode!.Value;
    }

    private void CloseConnections()
    {
        lock (_connections)
        {
            foreach (Connection c in _connections) c.Dispose();
            _connections.Clear();
        }
    }
}
