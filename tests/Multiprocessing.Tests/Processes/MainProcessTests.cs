using Xunit;

namespace Multiprocessing.Tests.Processes;

/// <summary>
/// cpython-behavior.md §8 items about the main process and about objects that need no child:
/// they do not depend on the start method, so they run once, outside <see cref="ProcessSuite"/>.
/// </summary>
public class MainProcessTests
{
    [Fact]
    public void Item001_Current_in_main_is_named_MainProcess()
    {
        Assert.Equal("MainProcess", Process.Current.Name);
    }

    [Fact]
    public void Item002_Main_identity_is_empty_and_Parent_is_null()
    {
        // _identity is not public: an empty identity shows as a child name with a single number
        // ("Process-N", not "Process-M:N"), since a child's identity is the creator's plus one.
        Assert.Null(Process.Parent);
        using var p = new Process(() => { });
        Assert.Matches(@"^Process-\d+$", p.Name);
    }

    [Fact]
    public void Item003_Main_AuthKey_is_32_random_bytes_per_run()
    {
        AuthenticationKey key = Process.Current.AuthKey;
        Assert.IsType<AuthenticationKey>(key);
        Assert.Equal(32, key.Length);
        Assert.Same(key, Process.Current.AuthKey);

        // "Random per run": two fresh main processes print different keys.
        TestApp.Result a = TestApp.Run("Checklist1_PrintAuthKey");
        TestApp.Result b = TestApp.Run("Checklist1_PrintAuthKey");
        Assert.Equal(0, a.ExitCode);
        Assert.Equal(0, b.ExitCode);
        string ka = FirstLine(a.Stdout), kb = FirstLine(b.Stdout);
        Assert.Matches("^[0-9A-F]{64}$", ka);
        Assert.Matches("^[0-9A-F]{64}$", kb);
        Assert.NotEqual(ka, kb);
        Assert.NotEqual(Convert.ToHexString(key.ToArray()), ka);
        // The key comes from the kernel (/dev/urandom, as CPython's os.urandom), not from
        // RandomNumberGenerator, which would load OpenSSL into every program's first Process (~10 ms).
        if (OperatingSystem.IsLinux()) Assert.Contains("no openssl", a.Stdout);
    }

    private static string FirstLine(string text) => text.Split('\n')[0].Trim();

    [Fact]
    public void Item004_Main_is_alive_with_no_exit_code_not_daemon_and_own_pid()
    {
        Process main = Process.Current;
        Assert.True(main.IsAlive);
        Assert.Null(main.ExitCode);
        Assert.False(main.Daemon);
        Assert.Equal(Environment.ProcessId, main.Pid);
        Assert.Equal(Environment.ProcessId, main.Ident);
    }

    [Fact]
    public void Item005_Main_join_and_sentinel_throw_and_close_is_a_no_op()
    {
        Process main = Process.Current;
        Assert.Equal("can only join a child process", Assert.Throws<InvalidOperationException>(() => main.Join()).Message);
        Assert.Equal("can only join a child process", Assert.Throws<InvalidOperationException>(() => main.Join(TimeSpan.Zero)).Message);
        Assert.Equal("process not started", Assert.Throws<InvalidOperationException>(() => main.Sentinel).Message);

        main.Close();
        main.Close();
        // Still fully usable: close() on _MainProcess does nothing.
        Assert.True(main.IsAlive);
        Assert.Equal(Environment.ProcessId, main.Pid);
        Assert.Null(main.ExitCode);
        Assert.Equal("<_MainProcess name='MainProcess' parent=None started>", main.ToString());
    }

    [Fact]
    public void Item006_Main_repr()
    {
        Assert.Equal("<_MainProcess name='MainProcess' parent=None started>", Process.Current.ToString());
    }

    // Item 13 (`Process(group=1)` → AssertionError): Python-only; the .NET constructors have no
    // group parameter, so there is nothing to pass and no test applies.

    [Fact]
    public void Item015_Setting_a_non_string_name_throws()
    {
        // The .NET analogue of a non-str name is null: the property is typed string.
        using var p = new Process(() => { });
        string before = p.Name;
        Assert.Equal("name must be a string", Assert.Throws<InvalidOperationException>(() => p.Name = null!).Message);
        Assert.Equal(before, p.Name);
    }

    [Fact]
    public void Item037_Exit_code_name_table()
    {
        Assert.Equal("-SIGHUP", ExitCodes.Name(-1));
        Assert.Equal("-SIGABRT", ExitCodes.Name(-6));
        Assert.Equal("-SIGKILL", ExitCodes.Name(-9));
        Assert.Equal("-SIGSEGV", ExitCodes.Name(-11));
        Assert.Equal("-SIGTERM", ExitCodes.Name(-15));
        Assert.Equal("-SIGCHLD", ExitCodes.Name(-17));
        Assert.Equal("-SIGPOLL", ExitCodes.Name(-29));
        Assert.Equal("-SIGSYS", ExitCodes.Name(-31));
        Assert.Equal("-SIGRTMIN", ExitCodes.Name(-34));
        Assert.Equal("-SIGRTMAX", ExitCodes.Name(-64));
        Assert.Equal("0", ExitCodes.Name(0));
        Assert.Equal("1", ExitCodes.Name(1));
        Assert.Equal("255", ExitCodes.Name(255));
    }

    [Fact]
    public void Item007_First_Process_in_a_fresh_main_is_Process_1_then_Process_2()
    {
        TestApp.Result r = TestApp.Run("Checklist1_Naming");
        Assert.True(r.ExitCode == 0, $"exit {r.ExitCode}\nstdout:\n{r.Stdout}\nstderr:\n{r.Stderr}");
        Assert.Equal(
            "Process-1\n" +
            "Process-2\n" +
            "MyProc-3\n" +
            "Process-4\n" +                                  // item 9: name "" → default name
            $"<Process name='Process-5' parent={r.Pid} initial>\n" +
            $"<Process name='Process-6' parent={r.Pid} initial daemon>\n" +
            "child Process-1 made Process-1:1\n",            // item 11, exactly, in a fresh main
            r.Stdout);
    }
}
