using System.Diagnostics;

namespace Multiprocessing.Benchmarks;

/// <summary>
/// Pipe round-trips parent↔child, the same protocol as <c>cpython_bench.py</c>'s <c>echo</c>:
/// a kind message, then a small object (Send/Recv) or 16 MiB (SendBytes/RecvBytes) echoed back.
/// </summary>
internal static class PipeRoundTrip
{
    private const int SmallBatch = 200;
    private const int Big = 16 * 1024 * 1024;

    internal sealed record Result(double SmallRoundTripMicroseconds, double BigMibPerSecond);

    /// <summary>`pipe`: only the round-trips, quick to rerun while working on the connection hot path.</summary>
    public static int Run(int reps)
    {
        Result pipe = Measure(Context.Get("spawn"), reps, warmup: 2);
        Console.WriteLine($"small object round-trip: {pipe.SmallRoundTripMicroseconds:F1} µs; 16 MiB: {pipe.BigMibPerSecond:F0} MiB/s");
        return 0;
    }

    public static Result Measure(ProcessContext ctx, int reps, int warmup)
    {
        var (parent, child) = Connection.Pipe();
        using Process p = ctx.Process(() => Echo(child));
        p.Start();
        child.Close();
        try
        {
            object small = new object?[] { 1, "hello", 2.5, new[] { 1, 2, 3 }, new Dictionary<string, object?> { ["k"] = true } };
            var smallTimes = new List<double>();
            for (int i = 0; i < warmup + reps; i++)
            {
                long t0 = Stopwatch.GetTimestamp();
                for (int j = 0; j < SmallBatch; j++)
                {
                    parent.SendBytes("o"u8);
                    parent.Send(small);
                    _ = parent.Recv();
                }
                if (i >= warmup) smallTimes.Add(Stopwatch.GetElapsedTime(t0).TotalMicroseconds / SmallBatch);
            }
            byte[] payload = new byte[Big];
            var bigRates = new List<double>();
            for (int i = 0; i < warmup + reps; i++)
            {
                long t0 = Stopwatch.GetTimestamp();
                parent.SendBytes("b"u8);
                parent.SendBytes(payload);
                byte[] got = parent.RecvBytes();
                double seconds = Stopwatch.GetElapsedTime(t0).TotalSeconds;
                if (got.Length != Big) throw new InvalidDataException($"echoed {got.Length} bytes, sent {Big}");
                if (i >= warmup) bigRates.Add(16 / seconds);
            }
            parent.SendBytes("q"u8);
            return new Result(Benchmarks.Measure.Median(smallTimes), Benchmarks.Measure.Median(bigRates));
        }
        finally
        {
            parent.Close();
            if (!p.Join(TimeSpan.FromSeconds(30))) { p.Kill(); p.Join(); }
        }
    }

    private static void Echo(Connection conn)
    {
        while (true)
        {
            byte[] kind = conn.RecvBytes();
            if (kind is [(byte)'o']) conn.Send(conn.Recv());
            else if (kind is [(byte)'b']) conn.SendBytes(conn.RecvBytes());
            else return;
        }
    }
}
