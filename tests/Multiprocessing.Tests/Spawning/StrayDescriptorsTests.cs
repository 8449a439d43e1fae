using Multiprocessing.Interop;
using Multiprocessing.Spawning;
using Xunit;

namespace Multiprocessing.Tests.Spawning;

/// <summary>
/// The parent's half of CPython's close_fds (the child's half is checklist item 75): which
/// descriptors the parent tells a child to close, and how the child reads the list.
/// </summary>
public class StrayDescriptorsTests
{
    private static int[] Listed(int channel, IReadOnlyList<int> passed) =>
        StrayDescriptors.List(channel, passed) is { } list ? ChildHost.ParseDescriptorList(list) : [];

    [Fact]
    public void An_inheritable_descriptor_is_listed_unless_it_is_the_channel_or_passed()
    {
        string path = Path.GetTempFileName();
        using var a = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.ReadWrite);
        using var b = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.ReadWrite);
        using var c = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.ReadWrite);
        int fa = (int)a.SafeFileHandle.DangerousGetHandle(), fb = (int)b.SafeFileHandle.DangerousGetHandle(), fc = (int)c.SafeFileHandle.DangerousGetHandle();
        lock (HostLauncher.SpawnLock) // no concurrent test's child may inherit these
        {
            try
            {
                Assert.DoesNotContain(fa, Listed(-1, [])); // .NET opens with close-on-exec: not a stray
                foreach (int fd in new[] { fa, fb, fc }) Libc.SetCloseOnExec(fd, false);
                int[] listed = Listed(fb, [fc]);
                Assert.Contains(fa, listed);
                Assert.DoesNotContain(fb, listed);
                Assert.DoesNotContain(fc, listed);
                Assert.All(listed, fd => Assert.True(fd > 2));
            }
            finally
            {
                foreach (int fd in new[] { fa, fb, fc }) Libc.SetCloseOnExec(fd, true);
                File.Delete(path);
            }
        }
    }

    [Theory]
    [InlineData("", new int[0])]
    [InlineData("7", new[] { 7 })]
    [InlineData("7,9,12", new[] { 7, 9, 12 })]
    [InlineData("0,1,2,5", new[] { 5 })]          // stdio is never closed or taken
    [InlineData("5,,x,-3,1234567890,8", new[] { 5, 8 })] // junk is skipped, not a crash
    public void The_child_parses_a_list_digit_by_digit(string list, int[] expected) =>
        Assert.Equal(expected, ChildHost.ParseDescriptorList(list));
}
