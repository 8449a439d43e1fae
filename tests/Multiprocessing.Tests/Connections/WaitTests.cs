using System.Diagnostics;
using System.Globalization;
using System.Net.Sockets;
using System.Text;
using Multiprocessing.Interop;
using Xunit;

namespace Multiprocessing.Tests.Connections;

/// <summary>
/// CPython <c>TestWait</c> behaviors that need no child process (test_wait_socket, ordering, the
/// objects accepted), plus the no-spin check; the child-process ones are in ProcessSuite.Connections.cs.
/// </summary>
public sealed class WaitTests : PipeFixture
{
    [Fact]
    public void test_wait_socket_collects_every_line_from_four_writers_until_each_closes()
    {
        var readers = new List<Socket>();
        var writers = new List<Thread>();
        for (int w = 0; w < 4; w++)
        {
            var (r, s) = SocketPair();
            readers.Add(r);
            writers.Add(new Thread(() =>
            {
                for (int i = 0; i < 10; i++) s.Send(Encoding.ASCII.GetBytes($"{i}\n"));
                s.Shutdown(SocketShutdown.Send);
            }));
        }
        writers.ForEach(t => t.Start());

        var received = readers.ToDictionary(r => r, _ => new StringBuilder());
        var open = new List<object>(readers);
        byte[] buf = new byte[256];
        var sw = Stopwatch.StartNew();
        while (open.Count > 0)
        {
            Assert.True(sw.Elapsed < Long, "the writers did not finish");
            foreach (object ready in Connection.Wait(open, Long))
            {
                var s = (Socket)ready;
                int n = s.Receive(buf);
                if (n == 0) open.Remove(s);
                else received[s].Append(Encoding.ASCII.GetString(buf, 0, n));
            }
        }
        writers.ForEach(t => Assert.True(t.Join(Long)));
        string expected = string.Concat(Enumerable.Range(0, 10).Select(i => $"{i}\n"));
        Assert.All(received.Values, sb => Assert.Equal(expected, sb.ToString()));
    }

    [Fact]
    public void Wait_returns_the_same_objects_in_the_order_given_across_kinds()
    {
        var (a, b) = Pipe();
        var (c, d) = Pipe();
        var (s, t) = SocketPair();
        b.Send(1);
        d.Send(2);
        t.Send([1]);
        IReadOnlyList<object> ready = Connection.Wait([s, c, b, a], Long);
        Assert.Equal(3, ready.Count);
        Assert.Same(s, ready[0]);
        Assert.Same(c, ready[1]);
        Assert.Same(a, ready[2]);
        // listed twice: reported twice, as listed
        Assert.Equal(2, Connection.Wait([a, a, b], Long).Count);
    }

    [Fact]
    public void Wait_without_a_timeout_blocks_until_another_thread_writes()
    {
        var (a, b) = Pipe();
        using var started = new ManualResetEventSlim();
        IReadOnlyList<object>? ready = null;
        var waiter = new Thread(() => { started.Set(); ready = Connection.Wait([a]); });
        waiter.Start();
        Assert.True(started.Wait(Long));
        Assert.False(waiter.Join(TimeSpan.FromMilliseconds(200))); // a bounded look: it is still waiting
        b.Send("wake");
        Assert.True(waiter.Join(Long));
        Assert.Equal(new object[] { a }, ready);
    }

    [Fact]
    public void Wait_refuses_objects_it_cannot_wait_on()
    {
        var (a, _) = Pipe();
        var e = Assert.Throws<ArgumentException>(() => Connection.Wait([a, "not waitable"], TimeSpan.Zero));
        Assert.Contains("System.String", e.Message);
        Assert.Throws<ArgumentException>(() => Connection.Wait([a, null!], TimeSpan.Zero));
        Assert.Throws<ArgumentNullException>(() => Connection.Wait(null!, TimeSpan.Zero));
    }

    [Fact]
    public void Wait_on_nothing_sleeps_out_the_timeout_like_CPython()
    {
        var sw = Stopwatch.StartNew();
        Assert.Empty(Connection.Wait([], TimeSpan.FromMilliseconds(300)));
        Assert.True(sw.Elapsed >= TimeSpan.FromMilliseconds(290), $"returned after {sw.Elapsed}");
        Assert.Empty(Connection.Wait([], TimeSpan.Zero));
    }

    [Fact]
    public void Waiting_does_not_burn_CPU()
    {
        // In a process of its own, so other tests running in parallel do not count.
        TestApp.Result r = TestApp.Run("WaitCpu");
        Assert.True(r.ExitCode == 0, $"exit {r.ExitCode}\n{r.Stdout}\n{r.Stderr}");
        foreach (string kind in new[] { "bounded", "unbounded" })
        {
            string line = r.Stdout.Split('\n').Single(l => l.StartsWith(kind + " ", StringComparison.Ordinal));
            var fields = line.Split(' ').Skip(1).Select(f => f.Split('=')).ToDictionary(kv => kv[0], kv => double.Parse(kv[1], CultureInfo.InvariantCulture));
            Assert.True(fields["waited"] >= 1400, $"{kind}: the wait returned early: {line}");
            Assert.True(fields["cpu"] < 200, $"{kind}: the wait used {fields["cpu"]} ms of CPU in {fields["waited"]} ms: {line}");
        }
    }
}
