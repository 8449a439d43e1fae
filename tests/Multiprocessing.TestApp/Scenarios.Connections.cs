using System.Diagnostics;
using System.Globalization;
using System.Net.Sockets;

namespace Multiprocessing.TestApp;

public static partial class Scenarios
{
    /// <summary>
    /// Measures this process's CPU time across a 1.5 s Connection.Wait that times out (bounded)
    /// and one with no timeout that another thread ends after 1.5 s (unbounded), over a
    /// connection, a socket and a running child's sentinel. Prints
    /// <c>bounded waited=MS cpu=MS</c> and <c>unbounded …</c>.
    /// </summary>
    public static int WaitCpu(string[] args)
    {
        var (parentEnd, childEnd) = Connection.Pipe();
        var (idle, _) = Connection.Pipe();
        using var listener = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        listener.Bind(new System.Net.IPEndPoint(System.Net.IPAddress.Loopback, 0));
        listener.Listen(1);
        var child = new Process(() => childEnd.Recv()); // runs until the parent sends
        child.Start();
        childEnd.Close();
        object[] objects = [idle, listener, child.Sentinel];
        Connection.Wait(objects, TimeSpan.Zero); // warm: JIT and the sentinel's socket are not what is measured

        Measure("bounded", () => Connection.Wait(objects, TimeSpan.FromSeconds(1.5)));

        var (wake, waker) = Connection.Pipe();
        var release = new Thread(() => { Thread.Sleep(1500); waker.Send(null); }); // the subject of the measurement, not a synchronization
        release.Start();
        Measure("unbounded", () => Connection.Wait([.. objects, wake]));
        release.Join();

        parentEnd.Send("done");
        child.Join();
        return child.ExitCode == 0 ? 0 : 3;
    }

    private static void Measure(string kind, Func<IReadOnlyList<object>> wait)
    {
        using var self = System.Diagnostics.Process.GetCurrentProcess();
        TimeSpan cpu0 = self.TotalProcessorTime;
        var sw = Stopwatch.StartNew();
        IReadOnlyList<object> ready = wait();
        double waited = sw.Elapsed.TotalMilliseconds;
        self.Refresh();
        double cpu = (self.TotalProcessorTime - cpu0).TotalMilliseconds;
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"{kind} waited={waited:F0} cpu={cpu:F0} ready={ready.Count}"));
    }
}
