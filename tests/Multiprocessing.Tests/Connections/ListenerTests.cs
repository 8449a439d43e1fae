using System.Net;
using System.Net.Sockets;
using System.Runtime.Versioning;
using System.Security.Authentication;
using System.Text.RegularExpressions;
using Xunit;

namespace Multiprocessing.Tests.Connections;

public class ListenerTests
{
    private static readonly AuthenticationKey Key = new("listener key"u8);

    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public void A_unix_path_listener_and_a_client_exchange_bytes_both_ways(bool keyed)
    {
        string path = FreshPath();
        using var listener = new Listener(path, keyed ? Key : null);
        Task<Connection> accepted = Bounded.Start(listener.Accept);
        using Connection client = Client.Connect(path, keyed ? Key : null);
        using Connection server = Bounded.Result(accepted);

        client.SendBytes("ping"u8);
        Assert.Equal("ping"u8.ToArray(), server.RecvBytes());
        server.SendBytes("pong"u8);
        Assert.Equal("pong"u8.ToArray(), client.RecvBytes());
        Assert.Equal(path, listener.Address);
        Assert.Equal("", listener.LastAccepted); // unnamed client socket: CPython shows ''
    }

    [Fact]
    public async Task A_tcp_listener_on_port_0_reports_its_bound_port_and_the_peer()
    {
        using var listener = new Listener(new IPEndPoint(IPAddress.Loopback, 0), Key);
        var address = Assert.IsType<IPEndPoint>(listener.Address);
        Assert.Equal(IPAddress.Loopback, address.Address);
        Assert.NotEqual(0, address.Port);
        Assert.Null(listener.LastAccepted);

        using var cts = new CancellationTokenSource(Bounded.Limit);
        Task<Connection> accepted = listener.AcceptAsync(cts.Token);
        using Connection client = Bounded.Run(() => Client.Connect(address, Key));
        using Connection server = await accepted;
        server.SendBytes("over tcp"u8);

        Assert.Equal("over tcp"u8.ToArray(), Bounded.Run(() => client.RecvBytes()));
        var peer = Assert.IsType<IPEndPoint>(listener.LastAccepted);
        Assert.Equal(IPAddress.Loopback, peer.Address);
        Assert.NotEqual(address.Port, peer.Port);
    }

    [Fact]
    [UnsupportedOSPlatform("windows")] // the library is Unix-only for now; the 0700 check is Unix's
    public void No_address_is_a_fresh_socket_in_a_private_temp_directory_removed_on_close()
    {
        using var first = new Listener();
        using var second = new Listener("");
        string path = Assert.IsType<string>(first.Address);

        Assert.Matches(new Regex("/listener-[a-z0-9_]{8}$"), path);
        Assert.NotEqual(path, second.Address);
        Assert.Equal(Path.GetDirectoryName(path), Path.GetDirectoryName((string)second.Address));
        Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute,
            File.GetUnixFileMode(Path.GetDirectoryName(path)!));
        Assert.True(File.Exists(path));

        first.Close();
        Assert.False(File.Exists(path));
        first.Close(); // idempotent
        first.Dispose();
        Assert.Equal(path, first.Address); // still readable after close
    }

    [Fact]
    public void Closing_removes_the_socket_file_at_a_given_path_but_keeps_accepted_connections()
    {
        string path = FreshPath();
        var listener = new Listener(path);
        Task<Connection> accepted = Bounded.Start(listener.Accept);
        using Connection client = Client.Connect(path);
        using Connection server = Bounded.Result(accepted);

        listener.Dispose();

        Assert.False(File.Exists(path));
        client.SendBytes("still here"u8);
        Assert.Equal("still here"u8.ToArray(), server.RecvBytes());
    }

    [Fact]
    public void An_abstract_namespace_address_works_and_leaves_no_file()
    {
        string name = "\0mp-test-" + Guid.NewGuid().ToString("N");
        using var listener = new Listener(name);
        Task<Connection> accepted = Bounded.Start(listener.Accept);
        using Connection client = Client.Connect(name);
        using Connection server = Bounded.Result(accepted);

        server.SendBytes("abstract"u8);
        Assert.Equal("abstract"u8.ToArray(), client.RecvBytes());
        Assert.Equal(name, listener.Address);
        Assert.False(File.Exists(name[1..]));
    }

    [Fact]
    public void Accept_after_close_and_a_close_during_accept_say_listener_is_closed()
    {
        var listener = new Listener();
        Task<Connection> blocked = Bounded.Start(listener.Accept);
        Thread.Sleep(200); // let it block in accept()
        listener.Close();

        Assert.Equal("listener is closed", Assert.Throws<InvalidOperationException>(() => Bounded.Result(blocked)).Message);
        Assert.Equal("listener is closed", Assert.Throws<InvalidOperationException>(listener.Accept).Message);
        Assert.Equal("listener is closed",
            Assert.Throws<InvalidOperationException>(() => Bounded.Result(listener.AcceptAsync())).Message);
    }

    [Fact]
    public void AcceptAsync_stops_on_cancellation()
    {
        using var listener = new Listener();
        using var cts = new CancellationTokenSource(TimeSpan.FromMilliseconds(200));

        Assert.ThrowsAny<OperationCanceledException>(() => Bounded.Result(listener.AcceptAsync(cts.Token)));
    }

    [Fact]
    public void A_wrong_key_fails_on_both_sides_and_the_listener_serves_the_next_client()
    {
        using var listener = new Listener(authKey: Key);
        Task<Connection> accepted = Bounded.Start(listener.Accept);

        var client = Assert.Throws<AuthenticationException>(() => Client.Connect(listener.Address, new AuthenticationKey("other"u8)));
        var server = Assert.Throws<AuthenticationException>(() => Bounded.Result(accepted));

        Assert.Equal("digest sent was rejected", client.Message);
        Assert.Equal("digest received was wrong", server.Message);
        accepted = Bounded.Start(listener.Accept);
        using Connection good = Client.Connect(listener.Address, Key);
        using Connection served = Bounded.Result(accepted);
        good.SendBytes("after a bad peer"u8);
        Assert.Equal("after a bad peer"u8.ToArray(), served.RecvBytes());
    }

    [Fact]
    public void An_empty_key_still_authenticates_as_in_CPython_3_12()
    {
        using var listener = new Listener(authKey: Array.Empty<byte>());
        Task<Connection> accepted = Bounded.Start(listener.Accept);
        using Connection client = Client.Connect(listener.Address, Array.Empty<byte>());
        using Connection server = Bounded.Result(accepted);

        accepted = Bounded.Start(listener.Accept);
        Assert.Throws<AuthenticationException>(() => Client.Connect(listener.Address, Key));
        Assert.Throws<AuthenticationException>(() => Bounded.Result(accepted));
    }

    [Fact]
    public void A_client_without_a_key_is_refused_by_a_keyed_listener_before_any_of_its_data_is_accepted()
    {
        using var listener = new Listener(authKey: Key);
        Task<Connection> accepted = Bounded.Start(listener.Accept);
        using Connection client = Client.Connect(listener.Address);
        client.SendBytes("hello"u8); // taken for its answer to the challenge

        var e = Assert.Throws<AuthenticationException>(() => Bounded.Result(accepted));
        Assert.Equal("unsupported message length, missing digest prefix, or unsupported digest: message=b'hello'", e.Message);
        Assert.StartsWith("#CHALLENGE#", System.Text.Encoding.Latin1.GetString(client.RecvBytes()));
        Assert.Equal("#FAILURE#"u8.ToArray(), client.RecvBytes());
        Assert.Throws<EndOfStreamException>(() => client.RecvBytes()); // the listener hung up
    }

    [Fact]
    public void A_peer_sending_garbage_or_leaving_fails_the_handshake_at_once()
    {
        using var listener = new Listener(authKey: Key);

        Task<Connection> accepted = Bounded.Start(listener.Accept);
        using (Socket garbage = RawConnect(listener.Address))
        {
            garbage.Send("GET / HTTP/1.1\r\n\r\n"u8); // reads as a 1.2 GB frame header
            Assert.IsType<InvalidDataException>(Assert.Throws<AuthenticationException>(() => Bounded.Result(accepted)).InnerException);
        }

        // Gone before or after our challenge went out: either way the peer closed on us.
        accepted = Bounded.Start(listener.Accept);
        RawConnect(listener.Address).Dispose();
        Assert.Throws<EndOfStreamException>(() => Bounded.Result(accepted));
        accepted = Bounded.Start(listener.Accept);
        using (Socket leaving = RawConnect(listener.Address))
        {
            leaving.Receive(new byte[64]);
        }
        Assert.Throws<EndOfStreamException>(() => Bounded.Result(accepted));
    }

    [Fact]
    public void A_silent_peer_is_dropped_after_the_handshake_timeout()
    {
        using var listener = new Listener(authKey: Key) { HandshakeTimeout = TimeSpan.FromMilliseconds(300) };
        using Socket silent = RawConnect(listener.Address);

        var e = Assert.Throws<AuthenticationException>(() => Bounded.Run(listener.Accept));
        Assert.IsType<TimeoutException>(e.InnerException);
    }

    [Fact]
    public void Bad_addresses_fail_with_CPython_text()
    {
        Assert.Equal("address type of 42 unrecognized", Assert.Throws<ArgumentException>(() => new Listener(42)).Message);
        Assert.Equal("address type of 42 unrecognized", Assert.Throws<ArgumentException>(() => Client.Connect(42)).Message);
        Assert.Equal("Family AF_PIPE is not recognized.", Assert.Throws<ArgumentException>(() => new Listener(@"\\.\pipe\x")).Message);
        Assert.Throws<ArgumentNullException>(() => Client.Connect(null!));
    }

    [Fact]
    public void A_path_in_use_cannot_be_bound_twice_and_a_missing_one_cannot_be_reached()
    {
        using var listener = new Listener();
        var e = Assert.Throws<SocketException>(() => new Listener(listener.Address));
        Assert.Equal(SocketError.AddressAlreadyInUse, e.SocketErrorCode);
        Assert.True(File.Exists((string)listener.Address)); // the failed second listener did not unlink it

        string missing = FreshPath();
        Assert.Equal(missing, Assert.Throws<FileNotFoundException>(() => Client.Connect(missing)).FileName);
    }

    [Fact]
    public void Socket_files_of_listeners_never_closed_are_removed_at_exit()
    {
        string named = FreshPath();
        TestApp.Result r = TestApp.Run("ListenerLeftOpen", named);

        Assert.Equal(0, r.ExitCode);
        Assert.Contains("exists True", r.Stdout);
        string arbitrary = r.Stdout.Split('\n').Single(l => l.StartsWith("arbitrary ", StringComparison.Ordinal))[10..];
        Assert.False(File.Exists(named));
        Assert.False(Directory.Exists(Path.GetDirectoryName(arbitrary)));
    }

    private static string FreshPath() => Path.Combine(Path.GetTempPath(), "mp-listener-test-" + Guid.NewGuid().ToString("N")[..12]);

    private static Socket RawConnect(object address)
    {
        var socket = new Socket(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified);
        socket.Connect(new UnixDomainSocketEndPoint((string)address));
        return socket;
    }
}
