using Microsoft.Win32.SafeHandles;
using Multiprocessing.Spawning;
using Xunit;

namespace Multiprocessing.Tests.Spawning;

public class SpareWarmUpTests
{
    /// <summary>
    /// This thread's minor page faults (field 10 of /proc/thread-self/stat), read without
    /// allocating: the measurement must not use up the allocation context it measures.
    /// </summary>
    private sealed class ThreadFaults(SafeFileHandle stat)
    {
        private readonly byte[] _buffer = new byte[1024];

        public long Now()
        {
            int n = RandomAccess.Read(stat, _buffer, 0);
            int i = Array.LastIndexOf(_buffer, (byte)')', n - 1) + 2; // the name may hold spaces
            for (int field = 3; field < 10; field++) i = Array.IndexOf(_buffer, (byte)' ', i) + 1;
            long value = 0;
            for (; _buffer[i] != (byte)' '; i++) value = value * 10 + (_buffer[i] - '0');
            return value;
        }
    }

    private static object[] AllocateSmall(int count)
    {
        var kept = new object[count];
        for (int i = 0; i < count; i++) kept[i] = new byte[24];
        return kept;
    }

    /// <summary>
    /// In a fresh process the GC hands out untouched memory, and the first touch of each page is a
    /// page fault (~45 µs each on the reference VM): a spare faults its next allocations in while
    /// idle. Checked in a spawned child, whose heap is fresh (a test host's has been reused):
    /// 56 KiB of small objects fault there (the control), and ~6.6 KiB after the call do not.
    /// </summary>
    [Fact]
    public void After_faulting_in_the_next_allocations_a_start_path_s_worth_of_small_objects_takes_no_page_fault()
    {
        string report = Path.Combine(Path.GetTempPath(), $"mp-faults-{Guid.NewGuid():N}");
        using Process p = Context.Get("spawn").Process(() =>
        {
            using SafeFileHandle stat = File.OpenHandle("/proc/thread-self/stat");
            var faults = new ThreadFaults(stat);
            _ = faults.Now();
            _ = AllocateSmall(8); // compiled: what follows measures allocations only
            long start = faults.Now();
            GC.KeepAlive(AllocateSmall(1000));
            long control = faults.Now() - start;
            int collections = GC.CollectionCount(0);
            SpareWarmUp.FaultInNextAllocations();
            long before = faults.Now();
            GC.KeepAlive(AllocateSmall(120)); // 120 × 48 B + the array ≈ 6.6 KiB (a start's decode takes less)
            long after = faults.Now() - before;
            File.WriteAllText(report, $"{control} {after} {GC.CollectionCount(0) - collections}");
        });
        try
        {
            p.Start();
            Assert.True(p.Join(TimeSpan.FromSeconds(60)), "the child did not finish");
            Assert.Equal(0, p.ExitCode);
            long[] r = [.. File.ReadAllText(report).Split(' ').Select(long.Parse)];
            Assert.Equal(0, r[2]); // no GC came between: a GC would hand out a new context
            Assert.True(r[0] > 0, $"the control faulted {r[0]} times: the child's heap was not fresh, so the check says nothing");
            Assert.Equal(0, r[1]);
        }
        finally
        {
            if (p.IsAlive) { p.Kill(); p.Join(); }
            File.Delete(report);
        }
    }
}
