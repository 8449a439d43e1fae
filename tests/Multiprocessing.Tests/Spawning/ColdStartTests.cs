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

    /// <summary>
    /// Each framework facade costs a spawned child a file mapping, ~70–130 KiB of PSS and part of
    /// a millisecond before its target runs. The start path reaches List/Dictionary
    /// (System.Collections) and the SIGINT registration and libc imports
    /// (System.Runtime.InteropServices), and nothing else: not System.Threading (its locks are
    /// CoreLib's Lock, no Monitor), not System.Console (stdin arrives closed), not System.Memory
    /// (framing and integers are decoded by hand), not System.Linq. The target here reads the list
    /// without LINQ, so it adds nothing itself.
    /// </summary>
    [Fact]
    public void A_spawned_child_loads_only_the_facades_its_start_path_needs()
    {
        string report = Path.Combine(Path.GetTempPath(), $"mp-asm-{Guid.NewGuid():N}");
        using Process p = Context.Get("spawn").Process(() =>
        {
            var names = new List<string>();
            foreach (System.Reflection.Assembly a in AppDomain.CurrentDomain.GetAssemblies()) names.Add(a.GetName().Name ?? "");
            File.WriteAllLines(report, names);
        });
        try
        {
            p.Start();
            Assert.True(p.Join(TimeSpan.FromSeconds(60)), "the child did not finish");
            Assert.Equal(0, p.ExitCode);
            string[] framework = File.ReadAllLines(report).Where(n => n.StartsWith("System.", StringComparison.Ordinal)).Order().ToArray();
            Assert.Equal(["System.Collections", "System.Private.CoreLib", "System.Runtime", "System.Runtime.InteropServices"], framework);
        }
        finally
        {
            if (p.IsAlive) { p.Kill(); p.Join(); }
            File.Delete(report);
        }
    }
}
