using System.Buffers.Binary;
using System.Diagnostics;
using System.Net.Sockets;
using Xunit;

namespace Multiprocessing.Tests.Connections;

/// <summary>
/// Random, malformed and truncated frames written raw into one end of a socket pair; the other
/// end is a Connection with a small <see cref="Connection.MaxMessageLength"/>. Every receive must
/// return or throw one of the documented exceptions, never hang, and never allocate much beyond
/// the maximum whatever the header claims.
/// </summary>
public sealed class ConnectionFuzzTests
{
    private const int Max = 4096;
    private const int Cases = 10_000;

    /// <summary>Room for exception objects, stack traces and the deserializer's bookkeeping on top of the message itself.</summary>
    private const long AllocationSlack = 256 * 1024;

    private static readonly TimeSpan CaseBound = TimeSpan.FromSeconds(20);

    [Fact]
    public void Random_and_truncated_frames_fail_cleanly_never_hang_and_never_allocate_beyond_the_maximum()
    {
        var rng = new Random(20240611);
        var outcomes = new Dictionary<string, int>();
        Connection? current = null;
        long caseStarted = Stopwatch.GetTimestamp();
        bool hung = false;
        // The watchdog: a receive still running after CaseBound is closed, which ends it, and the test fails.
        using var watchdog = new Timer(_ =>
        {
            if (Volatile.Read(ref current) is { } c && Stopwatch.GetElapsedTime(Interlocked.Read(ref caseStarted)) > CaseBound)
            {
                hung = true;
                c.Close();
            }
        }, null, TimeSpan.FromSeconds(1), TimeSpan.FromSeconds(1));

        for (int i = 0; i < Cases; i++)
        {
            byte[] wire = MakeWire(rng);
            (Socket raw, Connection conn) = ConnectionTests.RawPair();
            using (raw)
            using (conn)
            {
                conn.MaxMessageLength = Max;
                raw.Send(wire);
                raw.Shutdown(SocketShutdown.Send); // what follows the bytes is a clean end, as when a peer dies
                int op = rng.Next(5);
                int bufferSize = rng.Next(0, Max + 100);
                int maxLength = rng.Next(0, Max + 100);
                Interlocked.Exchange(ref caseStarted, Stopwatch.GetTimestamp());
                Volatile.Write(ref current, conn);
                string outcome;
                try
                {
                    for (int k = 0; ; k++) // receive until the stream fails or ends
                    {
                        long before = GC.GetAllocatedBytesForCurrentThread();
                        try
                        {
                            Receive(conn, op, bufferSize, maxLength);
                        }
                        finally
                        {
                            long allocated = GC.GetAllocatedBytesForCurrentThread() - before;
                            if (op != 4) // the async receive allocates on other threads too
                                Assert.True(allocated < Max + AllocationSlack, $"case {i}: {allocated} bytes allocated for op {op} on {Convert.ToHexString(wire.AsSpan(0, Math.Min(16, wire.Length)))}");
                        }
                        Assert.True(k < wire.Length + 1, $"case {i}: more messages than bytes");
                    }
                }
                catch (Exception e) when (e is EndOfStreamException or InvalidDataException or BufferTooShortException)
                {
                    outcome = e.GetType().Name;
                }
                catch (Exception e)
                {
                    throw new Xunit.Sdk.XunitException($"case {i}: op {op} on {Hex(wire)} threw an undocumented {e}");
                }
                finally
                {
                    Volatile.Write(ref current, null);
                }
                Assert.False(hung, $"case {i}: op {op} on {Hex(wire)} did not finish within {CaseBound}");
                outcomes[outcome] = outcomes.GetValueOrDefault(outcome) + 1;
            }
        }
        // Every kind of ending was reached, so the generator covers what it claims.
        Assert.True(outcomes.GetValueOrDefault(nameof(EndOfStreamException)) > 100, string.Join(", ", outcomes));
        Assert.True(outcomes.GetValueOrDefault(nameof(InvalidDataException)) > 100, string.Join(", ", outcomes));
        Assert.True(outcomes.GetValueOrDefault(nameof(BufferTooShortException)) > 10, string.Join(", ", outcomes));
    }

    private static string Hex(byte[] wire) => Convert.ToHexString(wire.AsSpan(0, Math.Min(64, wire.Length))) + (wire.Length > 64 ? "…" : "");

    private static void Receive(Connection conn, int op, int bufferSize, int maxLength)
    {
        switch (op)
        {
            case 0: conn.RecvBytes(); break;
            case 1: conn.RecvBytes(maxLength); break;
            case 2: conn.Recv(); break;
            case 3: conn.RecvBytesInto(new byte[bufferSize]); break;
            default:
                Task<byte[]> t = conn.RecvBytesAsync().AsTask();
                if (!((IAsyncResult)t).AsyncWaitHandle.WaitOne(CaseBound)) throw new TimeoutException("the async receive did not finish");
                t.GetAwaiter().GetResult();
                break;
        }
    }

    /// <summary>One case's bytes: garbage, or a frame that is valid, truncated, oversized or negative, maybe followed by more.</summary>
    private static byte[] MakeWire(Random rng)
    {
        var wire = new List<byte>();
        int frames = rng.Next(1, 4);
        for (int f = 0; f < frames; f++)
        {
            switch (rng.Next(8))
            {
                case 0: wire.AddRange(RandomBytes(rng, rng.Next(0, 25))); break;
                case 1: Frame(wire, rng.Next(0, Max + 1), Body(rng), full: true); break;
                case 2: Frame(wire, rng.Next(1, Max + 1), Body(rng), full: false); break;
                case 3: Short(wire, rng.Next(Max + 1, int.MaxValue)); break; // more than allowed: must not be allocated
                case 4: Short(wire, rng.Next(int.MinValue, -1)); break; // negative, not the -1 marker
                case 5:
                    Short(wire, -1);
                    wire.AddRange(RandomBytes(rng, rng.Next(0, 9))); // a random (often huge, often cut) 8-byte length
                    break;
                case 6: // the long header for a small message: valid, CPython reads it too
                    {
                        int n = rng.Next(0, Max + 1);
                        Short(wire, -1);
                        byte[] len = new byte[8];
                        BinaryPrimitives.WriteInt64BigEndian(len, n);
                        wire.AddRange(len);
                        wire.AddRange(RandomBytes(rng, n));
                        break;
                    }
                default: wire.AddRange(RandomBytes(rng, rng.Next(1, 4))); break; // a partial header
            }
        }
        return [.. wire];
    }

    /// <summary>A valid object payload sometimes, so Recv also gets past the format byte.</summary>
    private static Func<Random, int, byte[]> Body(Random rng) => rng.Next(4) == 0 ? ObjectPayload : RandomBytes;

    private static byte[] ObjectPayload(Random rng, int n)
    {
        byte[] valid = ProcessSerialization.Serializer.Serialize(new List<object?> { rng.Next(), "x", new byte[rng.Next(0, 50)] });
        byte[] result = RandomBytes(rng, n);
        valid.AsSpan(0, Math.Min(n, valid.Length)).CopyTo(result); // a valid prefix, then noise or a cut
        return result;
    }

    private static void Frame(List<byte> wire, int length, Func<Random, int, byte[]> body, bool full)
    {
        var rng = new Random(length);
        Short(wire, length);
        wire.AddRange(body(rng, full ? length : rng.Next(0, length)));
    }

    private static void Short(List<byte> wire, int value)
    {
        byte[] h = new byte[4];
        BinaryPrimitives.WriteInt32BigEndian(h, value);
        wire.AddRange(h);
    }

    private static byte[] RandomBytes(Random rng, int n)
    {
        byte[] b = new byte[n];
        rng.NextBytes(b);
        return b;
    }
}
