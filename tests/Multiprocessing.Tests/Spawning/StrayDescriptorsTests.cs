using System.Text;
using Multiprocessing.Spawning;
using Xunit;

namespace Multiprocessing.Tests.Spawning;

/// <summary>
/// A piece of the child's close_fds (the whole is checklist item 75): the descriptor table's
/// size that bounds its probe.
/// </summary>
public class StrayDescriptorsTests
{
    [Fact]
    public void The_table_size_of_this_process_bounds_its_open_descriptors()
    {
        // Listed first, then the size: other tests open descriptors meanwhile, and a table only grows
        // (the order the parent uses too: it reads the size after the fork).
        int highest = Directory.GetFileSystemEntries("/proc/self/fd").Select(p => int.Parse(Path.GetFileName(p))).Max();
        int? size = StrayDescriptors.ParseTableSize(File.ReadAllBytes("/proc/self/status"));
        Assert.NotNull(size);
        Assert.True(size > highest, $"FDSize {size}, highest open descriptor {highest}");
    }

    [Theory]
    [InlineData("Name:\tx\nFDSize:\t64\nGroups:\t\n", 64)]
    [InlineData("Name:\tx\nFDSize:   1024\n", 1024)]
    [InlineData("Name:\tx\nFDSize:\t256", 256)]          // at the very end
    [InlineData("Name:\tx\nNoFDSize:\t64\n", null)]      // the key only at a line start
    [InlineData("Name:\tx\nFDSize:\t\n", null)]
    [InlineData("FDSize:\t64\n", null)]                   // the first line is Name:, never FDSize:
    public void The_table_size_is_read_from_status_text(string text, int? expected) =>
        Assert.Equal(expected, StrayDescriptors.ParseTableSize(Encoding.ASCII.GetBytes(text)));
}

/// <summary>The poll(2) probe that finds a child's open descriptors in one call per 256 numbers.</summary>
public class DescriptorProbeTests
{
    [Fact]
    public void The_probe_sees_stdio_and_a_descriptor_just_opened()
    {
        // Only open ones are asserted: tests run in parallel, so a number closed here may be
        // reused by another thread at once (closed numbers are the next test's).
        using var handle = File.OpenHandle("/dev/null");
        int fd = (int)handle.DangerousGetHandle();
        var open = new bool[fd + 1];
        Assert.True(Multiprocessing.Interop.Libc.ProbeOpen(0, open));
        Assert.True(open[0] && open[1] && open[2], "stdio is open");
        Assert.True(open[fd], $"fd {fd} was just opened");
    }

    [Fact]
    public void Numbers_past_a_chunk_are_probed_too_and_unused_high_numbers_are_closed()
    {
        // 300 numbers from 100000: two chunks (256 + 44), none of them an open descriptor (the limit
        // on descriptors here is far below), so every one reports closed.
        var open = new bool[300];
        Array.Fill(open, true);
        Assert.True(Multiprocessing.Interop.Libc.ProbeOpen(100_000, open));
        Assert.DoesNotContain(true, open);
    }
}
