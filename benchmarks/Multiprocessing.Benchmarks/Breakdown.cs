namespace Multiprocessing.Benchmarks;

internal static class Breakdown
{
    public static int Run(int reps) => 0;
}
