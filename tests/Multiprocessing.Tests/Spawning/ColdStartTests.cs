using Xunit;

namespace Multiprocessing.Tests.Spawning;

/// <summary>What a spawned child's start path costs before the target runs.</summary>
/// <remarks>Apart from the parallel tests: one sets a variable in this process's environment for its child (<see cref="ProcessEnvironmentCollection"/>).</remarks>
[Collection(nameof(ProcessEnvironmentCollection))]
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
    /// a millisecond before its target runs. A plain start (an Action that captures nothing, no
    /// arguments: PlainStart) reaches only the SIGINT registration and libc imports
    /// (System.Runtime.InteropServices): not System.Collections (no List or Dictionary on its
    /// path), not System.Threading (CoreLib's Lock, and none taken), not System.Console (stdin
    /// arrives closed), not System.Memory (framing and integers are decoded by hand), not
    /// System.Linq. A lambda over strings and simple numbers is a plain start too; one the
    /// serializer decodes (a captured array) adds System.Collections.
    /// The targets list the assemblies with arrays only, so they add nothing themselves.
    /// </summary>
    [Theory]
    [InlineData("nothing captured", new[] { "System.Private.CoreLib", "System.Runtime", "System.Runtime.InteropServices" })]
    [InlineData("a string captured", new[] { "System.Private.CoreLib", "System.Runtime", "System.Runtime.InteropServices" })]
    [InlineData("an array captured", new[] { "System.Collections", "System.Private.CoreLib", "System.Runtime", "System.Runtime.InteropServices" })]
    public void A_spawned_child_loads_only_the_facades_its_start_path_needs(string captured, string[] expected)
    {
        string report = Path.Combine(Path.GetTempPath(), $"mp-asm-{Guid.NewGuid():N}");
        Environment.SetEnvironmentVariable(ReportVariable, report); // inherited: a capture-free target cannot be told otherwise
        string[] paths = [report];
        using Process p = captured switch
        {
            "nothing captured" => Context.Get("spawn").Process(WriteAssemblyNamesToInheritedPath),
            "a string captured" => Context.Get("spawn").Process(() => WriteAssemblyNames(report)),
            _ => Context.Get("spawn").Process(() => WriteAssemblyNames(paths[0])),
        };
        try
        {
            p.Start();
            Assert.True(p.Join(TimeSpan.FromSeconds(60)), "the child did not finish");
            Assert.Equal(0, p.ExitCode);
            string[] framework = File.ReadAllLines(report).Where(n => n.StartsWith("System.", StringComparison.Ordinal)).Order().ToArray();
            Assert.Equal(expected, framework);
        }
        finally
        {
            if (p.IsAlive) { p.Kill(); p.Join(); }
            File.Delete(report);
            Environment.SetEnvironmentVariable(ReportVariable, null);
        }
    }

    /// <summary>
    /// A HashSet argument is decoded by the library's own reader: the MessagePack fallback it
    /// once took cost a child 50–270 ms to load (dotnet-process-notes §4e).
    /// </summary>
    [Fact]
    public void A_HashSet_argument_reaches_the_child_without_the_MessagePack_fallback()
    {
        string report = Path.Combine(Path.GetTempPath(), $"mp-set-{Guid.NewGuid():N}");
        using Process p = Context.Get("spawn").Process(WriteAssemblyNamesToEach, args: [new HashSet<string> { report }]);
        try
        {
            p.Start();
            Assert.True(p.Join(TimeSpan.FromSeconds(60)), "the child did not finish");
            Assert.Equal(0, p.ExitCode);
            string[] names = File.ReadAllLines(report);
            Assert.Contains("Multiprocessing", names);
            Assert.DoesNotContain(names, n => n.StartsWith("MessagePack", StringComparison.Ordinal));
        }
        finally
        {
            if (p.IsAlive) { p.Kill(); p.Join(); }
            File.Delete(report);
        }
    }

    private static void WriteAssemblyNamesToEach(HashSet<string> paths)
    {
        foreach (string path in paths) WriteAssemblyNames(path);
    }

    private const string ReportVariable = "MP_TEST_ASSEMBLY_REPORT";

    private static void WriteAssemblyNamesToInheritedPath() => WriteAssemblyNames(Environment.GetEnvironmentVariable(ReportVariable)!);

    private static void WriteAssemblyNames(string path)
    {
        System.Reflection.Assembly[] loaded = AppDomain.CurrentDomain.GetAssemblies();
        string[] names = new string[loaded.Length];
        for (int i = 0; i < loaded.Length; i++) names[i] = loaded[i].GetName().Name ?? "";
        File.WriteAllLines(path, names);
    }
}
