using System.Reflection;
using System.Reflection.Emit;
using Multiprocessing.Serialization;
using Xunit;

namespace Multiprocessing.Tests.Serialization;

public class ClosureAnalyzerTests
{
    [Fact]
    public void The_operand_table_is_the_one_OpCodes_lists()
    {
        var listed = new Dictionary<int, OperandType>();
        foreach (FieldInfo f in typeof(OpCodes).GetFields(BindingFlags.Public | BindingFlags.Static))
        {
            if (f.GetValue(null) is OpCode op)
                listed[op.Size == 1 ? op.Value & 0xFF : 0xFE00 | (op.Value & 0xFF)] = op.OperandType;
        }
        Assert.True(listed.Count > 200);
        for (int low = 0; low < 256; low++)
        {
            foreach (int code in new[] { low, 0xFE00 | low })
            {
                OperandType? expected = listed.TryGetValue(code, out OperandType o) ? o : null;
                Assert.True(expected == ClosureAnalyzer.OperandTypeOf((short)code), $"opcode 0x{code:X4}: table says {ClosureAnalyzer.OperandTypeOf((short)code)}, OpCodes says {expected}");
            }
        }
        Assert.Null(ClosureAnalyzer.OperandTypeOf(0x0100));
    }

    [Fact]
    public void Only_the_captures_a_lambda_reads_are_used()
    {
        int used = 1;
        string unused = "left behind";
        Func<int> reads = () => used + 1;
        Action other = () => GC.KeepAlive(unused); // shares the closure object with `reads`
        var analyzer = new ClosureAnalyzer();
        analyzer.Analyze(reads.Method);
        Assert.Contains(analyzer.UsedFields, f => f.Name == nameof(used));
        Assert.DoesNotContain(analyzer.UsedFields, f => f.Name == nameof(unused));
        other();
    }
}
