using Xunit;

namespace Multiprocessing.Tests.Spawning;

/// <summary>What a spawned child's start path costs before the target runs.</summary>
public class ColdStartTests
{
    /// <summary>
    /// The start path touches no culture data and creates no Socket: either makes the runtime load
    /// ICU (~30 ms of CPU per child on the reference machine), a cost for a target to pay only if
    /// it needs globalization. (A forkserver spare loads it while idle, off the start path.)
    /// </summary>
    [Fact]
    public void A_spawned_child_that_needs_no_culture_data_does_not_load_ICU()
    {
        string report = Path.Combine(Path.GetTempPath(), $"mp-icu-{Guid.NewGuid():N}");
        using Process p = Context.Get("spawn").Process(() =>
        {
            bool icu = File.ReadAllText("/proc/self/maps").Contains("libicuuc", StringComparison.Ordinal);
            File.WriteAllText(report, icu ? "loaded" : "not loaded");
        });
        try
        {
            p.Start();
            Assert.True(p.Join(TimeSpan.FromSeconds(60)), "the child did not finish");
            Assert.Equal(0, p.ExitCode);
            Assert.Equal("not loaded", File.ReadAllText(report));
        }
        finally
        {
            if (p.IsAlive) { p.Kill(); p.Join(); }
            File.Delete(report);
        }
    }
}
