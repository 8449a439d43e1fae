using System.Reflection;
using Multiprocessing.Spawning;
using Xunit;

namespace Multiprocessing.Tests.Spawning;

/// <summary>The forkserver's list of recent targets, and a spare compiling them ahead of a start.</summary>
public class RecentTargetsTests
{
    private static void First() { }
    private static void Second() { }
    private static void Generic<T>() { }

    private static MethodInfo M(string name) => typeof(RecentTargetsTests).GetMethod(name, BindingFlags.Static | BindingFlags.NonPublic)!;

    [Fact]
    public void Targets_travel_as_token_and_assembly_most_recent_first_without_repeats()
    {
        var recent = new RecentTargets();
        recent.Note(M(nameof(First)));
        recent.Note(M(nameof(Second)));
        recent.Note(M(nameof(First)));
        string assembly = typeof(RecentTargetsTests).Assembly.GetName().Name!;
        Assert.Equal([(assembly, M(nameof(First)).MetadataToken), (assembly, M(nameof(Second)).MetadataToken)], RecentTargets.Parse(recent.ToVariable()));
    }

    [Fact]
    public void Generic_methods_are_not_noted_and_the_list_keeps_only_the_latest_eight()
    {
        var recent = new RecentTargets();
        recent.Note(M(nameof(Generic)));
        Assert.Empty(RecentTargets.Parse(recent.ToVariable()));
        MethodInfo[] many = typeof(string).GetMethods(BindingFlags.Public | BindingFlags.Static)
            .Where(m => !m.IsGenericMethod).DistinctBy(m => m.MetadataToken).Take(10).ToArray();
        foreach (MethodInfo m in many) recent.Note(m);
        var parsed = RecentTargets.Parse(recent.ToVariable());
        Assert.Equal(8, parsed.Count);
        Assert.Equal(many[^1].MetadataToken, parsed[0].Token);
    }

    [Theory]
    [InlineData("")]
    [InlineData("\n\n")]
    [InlineData("@asm\n12@\nx@asm\n-5@asm")]
    public void Malformed_lines_are_skipped(string text) => Assert.Empty(RecentTargets.Parse(text));

    [Fact]
    public void A_spare_prepares_what_resolves_and_skips_the_rest()
    {
        string assembly = typeof(RecentTargetsTests).Assembly.GetName().Name!;
        string text = $"{M(nameof(Second)).MetadataToken}@{assembly}\n{0x06FFFFFF}@{assembly}\n{M(nameof(First)).MetadataToken}@No.Such.Assembly\n";
        Assert.Equal(1, SpareWarmUp.PrepareTargets(text));
    }

    private static class HolderInitializations
    {
        public static int Count;
    }

    private sealed class Holder
    {
        private static readonly int s_stamp = ++HolderInitializations.Count;
        public void Work() => GC.KeepAlive(s_stamp);
    }

    [Fact]
    public void A_spare_rehearses_closure_targets_and_no_app_class_is_initialized_for_it()
    {
        int captured = 5;
        Action closure = () => captured++;
        var recent = new RecentTargets();
        recent.Note(closure.Method); // an instance method of the compiler's closure class: rehearsed
        recent.Note(typeof(Holder).GetMethod(nameof(Holder.Work))!); // an app class: compiled, never instantiated
        Assert.Equal(2, SpareWarmUp.PrepareTargets(recent.ToVariable()));
        Assert.True(SpareWarmUp.RehearseInstanceTarget(closure.Method), "the closure's start was encoded and decoded");
        Assert.False(SpareWarmUp.RehearseInstanceTarget(typeof(Holder).GetMethod(nameof(Holder.Work))!), "an app class is not instantiated");
        Assert.Equal(5, captured); // nothing ran
        Assert.Equal(0, HolderInitializations.Count); // its static constructor did not run
    }
}
