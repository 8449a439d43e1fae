// "idle": report readiness, then block on stdin so the parent can read this process's memory.
// "sleep": the smallest idle app, the same wait as the idle child's target (Thread.Sleep).
// "jit": print how much the runtime JIT-compiled to reach Main (the breakdown's floor).
// Otherwise: the smallest possible start→exit.
if (args.Length > 0 && args[0] == "idle")
{
    Console.WriteLine("ready");
    Console.In.ReadLine();
}
else if (args.Length > 0 && args[0] == "sleep")
{
    Thread.Sleep(Timeout.Infinite);
}
else if (args.Length > 0 && args[0] == "jit")
{
    Console.WriteLine($"{System.Runtime.JitInfo.GetCompiledMethodCount()} {System.Runtime.JitInfo.GetCompilationTime().TotalMilliseconds:F1} {AppDomain.CurrentDomain.GetAssemblies().Length}");
}
