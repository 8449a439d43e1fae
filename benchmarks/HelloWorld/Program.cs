// "idle": report readiness, then block on stdin so the parent can read this process's memory.
// Otherwise: the smallest possible start→exit.
if (args.Length > 0 && args[0] == "idle")
{
    Console.WriteLine("ready");
    Console.In.ReadLine();
}
