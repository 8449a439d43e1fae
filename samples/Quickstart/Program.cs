using System.Diagnostics;
using Multiprocessing;
using Process = Multiprocessing.Process;

// Counts the primes below N by splitting the range across one child process per core.
// Each child is a lambda: the captured `lo`, `hi` and `resultFile` travel to it.
const int N = 8_000_000;
int workers = Environment.ProcessorCount;
Console.WriteLine($"Counting primes below {N:N0} in {workers} child processes...");

var clock = Stopwatch.StartNew();
string dir = Directory.CreateTempSubdirectory("quickstart-").FullName;
var children = new List<Process>();
for (int i = 0; i < workers; i++)
{
    int slice = i;   // child `slice` takes every workers-th block of 10,000 numbers: an even share of the work
    string resultFile = Path.Combine(dir, $"{i}.txt");
    var p = new Process(() => File.WriteAllText(resultFile, Primes.Count(N, slice, workers).ToString()), name: $"primes-{i}");
    p.Start();
    children.Add(p);
}
long total = 0;
foreach (Process p in children)
{
    p.Join();
    int index = children.IndexOf(p);
    long count = long.Parse(File.ReadAllText(Path.Combine(dir, $"{index}.txt")));
    total += count;
    Console.WriteLine($"  {p}  -> {count:N0} primes");
}
Directory.Delete(dir, recursive: true);
double parallelSeconds = clock.Elapsed.TotalSeconds;
clock.Restart();
long check = Primes.Count(N, 0, 1);
Console.WriteLine($"Total: {total:N0} primes below {N:N0} in {parallelSeconds:F2} s with {workers} processes; " +
                  $"{clock.Elapsed.TotalSeconds:F2} s in this process alone (same answer: {check == total})");

// A runaway child: terminate it and read CPython's exit code for SIGTERM.
using (var runaway = new Process(() => { while (true) Thread.SpinWait(1000); }, name: "runaway"))
{
    runaway.Start();
    Console.WriteLine($"Started {runaway}");
    runaway.Join(TimeSpan.FromMilliseconds(300));
    runaway.Terminate();
    runaway.Join();
    Console.WriteLine($"Terminated: exit code {runaway.ExitCode} ({ExitCodes.Name(runaway.ExitCode!.Value)}), {runaway}");
}

// An exception in a child comes back as data.
using (var failing = new Process(() => throw new InvalidOperationException("the child gave up"), name: "failing"))
{
    failing.Start();
    failing.Join();
    Console.WriteLine($"The failing child exited with {failing.ExitCode}; its exception: " +
                      $"{failing.Exception?.RemoteTypeName}: {failing.Exception?.Message}");
}

static class Primes
{
    public static long Count(int below, int slice, int slices)
    {
        long count = 0;
        for (int n = 2; n < below; n++)
        {
            if (n / 10_000 % slices != slice) continue;
            bool prime = true;
            for (int d = 2; (long)d * d <= n; d++)
                if (n % d == 0) { prime = false; break; }
            if (prime) count++;
        }
        return count;
    }
}
