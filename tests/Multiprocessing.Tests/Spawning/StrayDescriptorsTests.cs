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
