using System.Diagnostics;

namespace Multiprocessing.Benchmarks;

/// <summary>
/// Pipe round-trips parent↔child, the same protocol as <c>cpython_bench.py</c>'s <c>echo</c>:
/// a kind message, then a small object (Send/Recv) or 16 MiB (SendBytes/RecvBytes) echoed back.
/// Each of our batches alternates with one of CPython 3.11's (see <see cref="CPythonEcho"/>), so a
/// slow spell of the machine falls on both sides of the ratio.
/// </summary>
internal static class PipeRoundTrip
{
    private const int SmallBatch = 200; // cpython_bench.py's SMALL_BATCH
    private const int Big = 16 * 1024 * 1024;

    /// <summary>
    /// Small-object batches run for at least this long before any is counted. A fresh child's
    /// runtime recompiles the round-trip's hot methods at tier 1 in its first second (~300 per
    /// process, on background threads that take a core from the two processes ping-ponging on a
    /// 2-core machine): those batches measure the JIT, not the pipe.
    /// </summary>
    internal static readonly TimeSpan SmallWarmUp = TimeSpan.FromSeconds(1.5);

    /// <summary>Ours, and CPython's from the interleaved batches (null, with why, when it could not run).</summary>
    internal sealed record Result(double SmallMicroseconds, double BigMibPerSecond, double? PySmallMicroseconds, double? PyBigMibPerSecond, string PyWhy);

    /// <summary>`pipe`: only the round-trips, quick to rerun while working on the connection hot path.</summary>
    public static int Run(int reps)
    {
        Result r = Measure(Context.Get("spawn"), reps, warmup: 2);
        Console.WriteLine($"small object round-trip: {r.SmallMicroseconds:F1} µs; 16 MiB: {r.BigMibPerSecond:F0} MiB/s");
        Console.WriteLine(r.PySmallMicroseconds is { } ps && r.PyBigMibPerSecond is { } pb
            ? $"CPython 3.11 fork, interleaved: {ps:F1} µs; {pb:F0} MiB/s ({r.SmallMicroseconds / ps:F2}× and {r.BigMibPerSecond / pb:F2}×)"
            : r.PyWhy);
        return 0;
    }

    public static Result Measure(ProcessContext ctx, int reps, int warmup)
    {
        (CPythonEcho? py, string why) = CPythonEcho.Start("fork");
        var (parent, child) = Connection.Pipe();
        using Process p = ctx.Process(() => Echo(child));
        p.Start();
        child.Close();
        try
        {
            object small = SmallMessage();
            var (ours, theirs) = (new List<double>(), new List<double>());
            long warmUpEnd = Stopwatch.GetTimestamp() + (long)(SmallWarmUp.TotalSeconds * Stopwatch.Frequency);
            for (int i = 0; ours.Count < reps; i++)
            {
                bool counted = i >= warmup && Stopwatch.GetTimestamp() >= warmUpEnd;
                double us = SmallBatchOnce(parent, small);
                double? pyUs = Ask(ref py, ref why, e => e.Small());
                if (!counted) continue;
                ours.Add(us);
                if (pyUs is { } v) theirs.Add(v);
            }
            byte[] payload = new byte[Big];
            var (oursBig, theirsBig) = (new List<double>(), new List<double>());
            for (int i = 0; i < warmup + reps; i++)
            {
                double rate = BigOnce(parent, payload);
                double? pyRate = Ask(ref py, ref why, e => e.Big());
                if (i < warmup) continue;
                oursBig.Add(rate);
                if (pyRate is { } v) theirsBig.Add(v);
            }
            parent.SendBytes("q"u8);
            return new Result(Benchmarks.Measure.Median(ours), Benchmarks.Measure.Median(oursBig),
                py is null ? null : Benchmarks.Measure.Median(theirs), py is null ? null : Benchmarks.Measure.Median(theirsBig), why);
        }
        finally
        {
            py?.Dispose();
            parent.Close();
            if (!p.Join(TimeSpan.FromSeconds(30))) { p.Kill(); p.Join(); }
        }
    }

    /// <summary>The small object of the round-trips, the twin of cpython_bench.py's SMALL.</summary>
    internal static object SmallMessage() =>
        new object?[] { 1, "hello", 2.5, new[] { 1, 2, 3 }, new Dictionary<string, object?> { ["k"] = true } };

    /// <summary>CPython's figure; a CPython side that fails is reported in the table, not a crash of the run.</summary>
    private static double? Ask(ref CPythonEcho? py, ref string why, Func<CPythonEcho, double> ask)
    {
        if (py is null) return null;
        try
        {
            return ask(py);
        }
        catch (Exception e) when (e is InvalidOperationException or IOException or FormatException)
        {
            why = "CPython 3.11 failed: " + e.Message;
            py.Dispose();
            py = null;
            return null;
        }
    }

    private static double SmallBatchOnce(Connection parent, object small)
    {
        long t0 = Stopwatch.GetTimestamp();
        for (int j = 0; j < SmallBatch; j++)
        {
            parent.SendBytes("o"u8);
            parent.Send(small);
            _ = parent.Recv();
        }
        return Stopwatch.GetElapsedTime(t0).TotalMicroseconds / SmallBatch;
    }

    private static double BigOnce(Connection parent, byte[] payload)
    {
        long t0 = Stopwatch.GetTimestamp();
        parent.SendBytes("b"u8);
        parent.SendBytes(payload);
        byte[] got = parent.RecvBytes();
        double seconds = Stopwatch.GetElapsedTime(t0).TotalSeconds;
        if (got.Length != Big) throw new InvalidDataException($"echoed {got.Length} bytes, sent {Big}");
        return 16 / seconds;
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
