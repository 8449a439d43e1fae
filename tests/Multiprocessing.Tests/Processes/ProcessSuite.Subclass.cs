using Xunit;

namespace Multiprocessing.Tests.Processes;

public abstract partial class ProcessSuite
{
    /// <summary>CPython style: a subclass that declares no constructor at all.</summary>
    private sealed class BareSubclass : Process
    {
        public int Code = 5;
        public override void Run() => Environment.Exit(Code);
    }

    [Fact]
    public void A_subclass_without_a_constructor_compiles_and_runs_with_its_fields()
    {
        var p = (BareSubclass)Track(new BareSubclass { Code = 9 });
        Assert.StartsWith("BareSubclass-", p.Name);
        Assert.Equal(9, RunToEnd(p));
    }
}
