using System.Net;
using System.Security.Authentication;
using System.Security.Cryptography;
using System.Text;
using Xunit;

namespace Multiprocessing.Tests.Connections;

/// <summary>
/// Our Listener/Client against CPython's <c>multiprocessing.connection</c> in a real python3
/// child. "3.11" answers and sends the legacy MD5 challenge; "3.13" the <c>{sha256}</c> form.
/// </summary>
public class CPythonInteropTests
{
    private static readonly byte[] Key = RandomNumberGenerator.GetBytes(32);
    private static readonly string KeyHex = Convert.ToHexString(Key);

    [Theory]
    [PythonPeer("python3", "unix"), PythonPeer("3.11", "unix"), PythonPeer("3.13", "unix")]
    [PythonPeer("python3", "tcp"), PythonPeer("3.11", "tcp"), PythonPeer("3.13", "tcp")]
    public void A_client_authenticates_to_a_CPython_listener_and_exchanges_bytes(string peer, string transport)
    {
        using var python = CPythonPeer.Start(peer, "listen", transport, KeyHex);
        python.ExpectVersion(peer);
        object address = CPythonPeer.ParseAddress(python.Expect("address"));
        Assert.IsType(transport == "tcp" ? typeof(IPEndPoint) : typeof(string), address);

        byte[] reply = Bounded.Run(() =>
        {
            using Connection conn = Client.Connect(address, Key);
            conn.SendBytes("hello from C#"u8);
            return conn.RecvBytes();
        });

        Assert.Equal("#C morf olleh", Encoding.ASCII.GetString(reply));
        Assert.Equal(0, python.ExitCode());
    }

    [Theory]
    [PythonPeer("python3", "unix"), PythonPeer("3.11", "unix"), PythonPeer("3.13", "unix")]
    [PythonPeer("python3", "tcp"), PythonPeer("3.11", "tcp"), PythonPeer("3.13", "tcp")]
    public async Task A_CPython_client_authenticates_to_our_listener_and_exchanges_bytes(string peer, string transport)
    {
        using var listener = new Listener(transport == "tcp" ? new IPEndPoint(IPAddress.Loopback, 0) : null, Key);
        using var python = CPythonPeer.Start(peer, "connect", CPythonPeer.FormatAddress(listener.Address), KeyHex);
        python.ExpectVersion(peer);

        using var cts = new CancellationTokenSource(Bounded.Limit);
        using Connection conn = await listener.AcceptAsync(cts.Token);
        byte[] got = Bounded.Run(() => conn.RecvBytes());
        conn.SendBytes(got.Reverse().ToArray());

        Assert.Equal("hello from python", Encoding.ASCII.GetString(got));
        Assert.Equal("nohtyp morf olleh", python.Expect("reply"));
        Assert.Equal(0, python.ExitCode());
    }

    [Theory]
    [PythonPeer("python3"), PythonPeer("3.11"), PythonPeer("3.13")]
    public void A_wrong_key_fails_on_both_sides_against_a_CPython_listener(string peer)
    {
        using var python = CPythonPeer.Start(peer, "listen", "unix", KeyHex);
        python.ExpectVersion(peer);
        string address = python.Expect("address");

        var e = Assert.Throws<AuthenticationException>(() => Bounded.Run(() => Client.Connect(address, "wrong"u8.ToArray())));

        Assert.Equal("digest sent was rejected", e.Message);
        Assert.Equal("digest received was wrong", python.Expect("AuthenticationError:"));
        Assert.Equal(3, python.ExitCode());
    }

    [Theory]
    [PythonPeer("python3"), PythonPeer("3.11"), PythonPeer("3.13")]
    public void A_wrong_key_fails_on_both_sides_against_a_CPython_client(string peer)
    {
        using var listener = new Listener(authKey: "wrong"u8.ToArray());
        using var python = CPythonPeer.Start(peer, "connect", (string)listener.Address, KeyHex);
        python.ExpectVersion(peer);

        var e = Assert.Throws<AuthenticationException>(() => Bounded.Run(listener.Accept));

        Assert.Equal("digest received was wrong", e.Message);
        Assert.Equal("digest sent was rejected", python.Expect("AuthenticationError:"));
        Assert.Equal(3, python.ExitCode());
    }

    [Theory]
    [PythonPeer("python3"), PythonPeer("3.13")]
    public void Without_keys_a_CPython_client_and_our_listener_talk_unauthenticated(string peer)
    {
        using var listener = new Listener();
        using var python = CPythonPeer.Start(peer, "connect", (string)listener.Address, "-");
        python.ExpectVersion(peer);

        using Connection conn = Bounded.Run(listener.Accept);
        byte[] got = Bounded.Run(() => conn.RecvBytes());
        conn.SendBytes("unauthenticated"u8);

        Assert.Equal("hello from python", Encoding.ASCII.GetString(got));
        Assert.Equal("unauthenticated", python.Expect("reply"));
        Assert.Equal(0, python.ExitCode());
    }
}
