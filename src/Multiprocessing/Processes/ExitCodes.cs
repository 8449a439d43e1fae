namespace Multiprocessing;

/// <summary>
/// CPython's <c>_exitcode_to_name</c>: −signum as <c>-SIGNAME</c> (Linux numbering, aliases
/// resolved as CPython does: −6 is SIGABRT, −17 SIGCHLD, −29 SIGPOLL); every other code as
/// its number.
/// </summary>
public static class ExitCodes
{
    private static readonly string[] s_names =
    [
        "", "SIGHUP", "SIGINT", "SIGQUIT", "SIGILL", "SIGTRAP", "SIGABRT", "SIGBUS", "SIGFPE", "SIGKILL",
        "SIGUSR1", "SIGSEGV", "SIGUSR2", "SIGPIPE", "SIGALRM", "SIGTERM", "SIGSTKFLT", "SIGCHLD", "SIGCONT",
        "SIGSTOP", "SIGTSTP", "SIGTTIN", "SIGTTOU", "SIGURG", "SIGXCPU", "SIGXFSZ", "SIGVTALRM", "SIGPROF",
        "SIGWINCH", "SIGPOLL", "SIGPWR", "SIGSYS",
    ];

    /// <summary>The name CPython's repr shows for an exit code: <c>Name(-15)</c> is <c>"-SIGTERM"</c>, <c>Name(1)</c> is <c>"1"</c>.</summary>
    public static string Name(int code) => code switch
    {
        < 0 and > -32 => "-" + s_names[-code],
        -34 => "-SIGRTMIN",
        -64 => "-SIGRTMAX",
        _ => code.ToString(System.Globalization.CultureInfo.InvariantCulture),
    };
}
