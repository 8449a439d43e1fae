using System.Diagnostics;
using System.Net.Sockets;
using System.Security.Authentication;
using System.Security.Cryptography;
using System.Text;
using Multiprocessing.Connections;
using Multiprocessing.Interop;
using Multiprocessing.Wire;
using Xunit;

namespace Multiprocessing.Tests.Connections;

/// <summary>
/// The handshake against a scripted peer that writes CPython's frames by hand, so each protocol
/// step and each failure text is checked on its own (the real CPython peers are in
/// <see cref="CPythonInteropTests"/>). The peer computes its HMACs independently of the library.
/// </summary>
public sealed class HandshakeTests : IDisposable
{
    private static readonly AuthenticationKey Key = new("shared secret"u8);
    private static readonly TimeSpan Forever = TimeSpan.FromSeconds(60);

    private readonly Socket _ours;
    private readonly Socket _peerSocket;
    private readonly NetworkStream _peer;

    public HandshakeTests()
    {
        (int a, int b) = Libc.CreateSocketPair();
        _ours = new Socket(new SafeSocketHandle(a, ownsHandle: true));
        _peerSocket = new Socket(new SafeSocketHandle(b, ownsHandle: true)) { ReceiveTimeout = 60_000 }; // a scripted read never hangs
        _peer = new NetworkStream(_peerSocket, ownsSocket: true);
    }

    public void Dispose()
    {
        _peer.Dispose();
        _ours.Dispose();
    }

    [Fact]
    public void Our_challenge_is_the_3_12_form_a_sha256_prefix_and_40_random_bytes()
    {
        Task listener = Task.Run(() => Handshake.AsListener(_ours, Key, Forever));

        byte[] first = Recv();
        Assert.StartsWith("#CHALLENGE#{sha256}", Encoding.Latin1.GetString(first));
        Assert.Equal(11 + 8 + 40, first.Length);
        _peer.Close(); // and leave mid-handshake

        Assert.Throws<EndOfStreamException>(() => Bounded.Result(listener));
        Assert.NotEqual(first, ChallengeFromAFreshListener());
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void A_3_11_client_is_served_the_legacy_MD5_way_in_both_directions(bool async)
    {
        Task listener = StartListener(async);

        // As 3.11's answer_challenge: a raw HMAC-MD5 of everything after #CHALLENGE#, {sha256} included.
        byte[] challenge = Body(Recv());
        Send(HMACMD5.HashData(Key.Span, challenge));
        Assert.Equal("#WELCOME#", Text(Recv()));
        // As 3.11's deliver_challenge: 20 random bytes, no prefix, a raw MD5 answer expected.
        byte[] legacy = RandomNumberGenerator.GetBytes(20);
        Send([.. "#CHALLENGE#"u8, .. legacy]);
        Assert.Equal(HMACMD5.HashData(Key.Span, legacy), Recv());
        Send("#WELCOME#"u8);

        Bounded.Result(listener);
    }

    [Theory]
    [InlineData("md5", false)]
    [InlineData("sha256", true)]
    [InlineData("sha384", false)]
    [InlineData("sha3_256", true)]
    [InlineData("sha3_384", false)]
    public void A_peer_may_answer_and_challenge_with_any_digest_CPython_allows(string digest, bool async)
    {
        Task listener = StartListener(async);

        byte[] challenge = Body(Recv());
        Send([.. Prefix(digest), .. Hmac(digest, challenge)]);
        Assert.Equal("#WELCOME#", Text(Recv()));
        byte[] ours = [.. Prefix(digest), .. RandomNumberGenerator.GetBytes(40)];
        Send([.. "#CHALLENGE#"u8, .. ours]);
        Assert.Equal([.. Prefix(digest), .. Hmac(digest, ours)], Recv()); // the MAC covers the prefix too
        Send("#WELCOME#"u8);

        Bounded.Result(listener);
    }

    [Theory]
    [InlineData("wrong mac", "digest received was wrong")]
    [InlineData("sha1", "unsupported message length, missing digest prefix, or unsupported digest: message=b'{sha1}AAAAAAAAAAAAAAAAAAAA'")]
    [InlineData("short sha256", "expected 'sha256' of length 32 got 16")]
    [InlineData("20 bytes", "expected 'md5' of length 16 got 20")]
    public void A_bad_answer_is_told_FAILURE_and_fails_with_CPython_text(string answer, string message)
    {
        Task listener = StartListener(async: false);

        byte[] challenge = Body(Recv());
        Send(answer switch
        {
            "wrong mac" => [.. "{sha256}"u8, .. HMACSHA256.HashData("other key"u8, challenge)],
            "sha1" => [.. "{sha1}"u8, .. Enumerable.Repeat((byte)'A', 20)],
            "short sha256" => [.. "{sha256}"u8, .. new byte[16]],
            _ => new byte[20],
        });

        Assert.Equal("#FAILURE#", Text(Recv()));
        Assert.Equal(message, Assert.Throws<AuthenticationException>(() => Bounded.Result(listener)).Message);
    }

    [Fact]
    public void A_client_authenticates_the_listener_too()
    {
        Task client = Task.Run(() => Handshake.AsClient(_ours, Key, Forever));

        byte[] challenge = [.. "{sha256}"u8, .. RandomNumberGenerator.GetBytes(40)];
        Send([.. "#CHALLENGE#"u8, .. challenge]);
        Assert.Equal([.. "{sha256}"u8, .. HMACSHA256.HashData(Key.Span, challenge)], Recv());
        Send("#WELCOME#"u8);
        byte[] theirs = Body(Recv());
        Send([.. "{sha256}"u8, .. HMACSHA256.HashData("not the key"u8, theirs)]);

        Assert.Equal("#FAILURE#", Text(Recv()));
        Assert.Equal("digest received was wrong", Assert.Throws<AuthenticationException>(() => Bounded.Result(client)).Message);
    }

    [Theory]
    [InlineData("#FAILURE#", "digest sent was rejected")]
    [InlineData("#CHALLENGE#short", "challenge too short: 5 bytes")]
    [InlineData("\0\u00ff'hi\"\n\\\t\r~\u007f", "Protocol error, expected challenge: message=b'\\x00\\xff\\'hi\"\\n\\\\\\t\\r~\\x7f'")]
    public void A_client_fails_with_CPython_text_on_a_bogus_listener(string sent, string message)
    {
        Task client = Task.Run(() => Handshake.AsClient(_ours, Key, Forever));

        if (sent == "#FAILURE#")
        {
            Send([.. "#CHALLENGE#"u8, .. new byte[20]]);
            Recv();
        }
        Send(Encoding.Latin1.GetBytes(sent));

        Assert.Equal(message, Assert.Throws<AuthenticationException>(() => Bounded.Result(client)).Message);
    }

    [Fact]
    public void An_oversized_frame_is_refused_without_allocating_it()
    {
        _peer.Write([0x7f, 0xff, 0xff, 0xff]); // "a 2 GiB challenge follows"

        long before = GC.GetAllocatedBytesForCurrentThread();
        var e = Assert.Throws<AuthenticationException>(() => Handshake.AsClient(_ours, Key, Forever));
        long allocated = GC.GetAllocatedBytesForCurrentThread() - before;

        Assert.IsType<InvalidDataException>(e.InnerException);
        Assert.StartsWith("Protocol error, invalid frame", e.Message);
        Assert.True(allocated < 1_000_000, $"allocated {allocated} bytes");
    }

    [Fact]
    public void A_listener_closing_mid_handshake_is_end_of_stream_for_the_client()
    {
        Task client = Task.Run(() => Handshake.AsClient(_ours, Key, Forever));
        Send([.. "#CHALLENGE#"u8, .. new byte[20]]);
        Recv();
        _peer.Close();

        Assert.Throws<EndOfStreamException>(() => Bounded.Result(client));
    }

    [Theory]
    [InlineData("listener")]
    [InlineData("client")]
    [InlineData("async listener")]
    public void A_silent_peer_times_out_after_the_deadline(string side)
    {
        TimeSpan deadline = TimeSpan.FromMilliseconds(300);
        var clock = Stopwatch.StartNew();

        Task handshake = side switch
        {
            "listener" => Task.Run(() => Handshake.AsListener(_ours, Key, deadline)),
            "client" => Task.Run(() => Handshake.AsClient(_ours, Key, deadline)),
            _ => Handshake.AsListenerAsync(_ours, Key, deadline, CancellationToken.None),
        };
        var e = Assert.Throws<AuthenticationException>(() => Bounded.Result(handshake));

        Assert.IsType<TimeoutException>(e.InnerException);
        Assert.Equal("the peer did not complete the authentication handshake within 0.3 seconds", e.Message);
        Assert.InRange(clock.Elapsed, deadline * 0.9, TimeSpan.FromSeconds(30));
    }

    [Fact]
    public void Cancelling_an_async_handshake_is_a_cancellation_not_an_authentication_failure()
    {
        using var cts = new CancellationTokenSource();
        Task handshake = Handshake.AsListenerAsync(_ours, Key, Forever, cts.Token);
        Recv();
        cts.Cancel();

        Assert.ThrowsAny<OperationCanceledException>(() => Bounded.Result(handshake));
    }

    [Fact]
    public void An_application_frame_sent_right_after_the_answer_is_left_for_the_connection()
    {
        Task listener = StartListener(async: false);

        Send([.. "{sha256}"u8, .. HMACSHA256.HashData(Key.Span, Body(Recv()))]);
        Assert.Equal("#WELCOME#", Text(Recv()));
        byte[] ours = [.. "{sha256}"u8, .. RandomNumberGenerator.GetBytes(40)];
        Send([.. "#CHALLENGE#"u8, .. ours]);
        Recv();
        Send("#WELCOME#"u8);
        Send("first application message"u8); // before the listener has even returned

        Bounded.Result(listener);
        using var stream = new NetworkStream(_ours, ownsSocket: false);
        Assert.Equal("first application message", Text(Framing.Read(stream)!));
    }

    private Task StartListener(bool async) => async
        ? Handshake.AsListenerAsync(_ours, Key, Forever, CancellationToken.None)
        : Task.Run(() => Handshake.AsListener(_ours, Key, Forever));

    private static byte[] ChallengeFromAFreshListener()
    {
        using var other = new HandshakeTests();
        Task listener = Task.Run(() => Handshake.AsListener(other._ours, Key, Forever));
        byte[] challenge = other.Recv();
        other._peer.Close();
        Assert.Throws<EndOfStreamException>(() => Bounded.Result(listener));
        return challenge;
    }

    private void Send(ReadOnlySpan<byte> message) => Framing.Write(_peer, message);

    private byte[] Recv() => Framing.Read(_peer, 256) ?? throw new EndOfStreamException();

    private static byte[] Body(byte[] challengeFrame)
    {
        Assert.StartsWith("#CHALLENGE#", Text(challengeFrame));
        return challengeFrame[11..];
    }

    private static string Text(byte[] bytes) => Encoding.Latin1.GetString(bytes);

    private static byte[] Prefix(string digest) => Encoding.ASCII.GetBytes("{" + digest + "}");

    private static byte[] Hmac(string digest, byte[] data) => CryptographicOperations.HmacData(digest switch
    {
        "md5" => HashAlgorithmName.MD5,
        "sha256" => HashAlgorithmName.SHA256,
        "sha384" => HashAlgorithmName.SHA384,
        "sha3_256" => HashAlgorithmName.SHA3_256,
        _ => HashAlgorithmName.SHA3_384,
    }, Key.Span, data);
}
