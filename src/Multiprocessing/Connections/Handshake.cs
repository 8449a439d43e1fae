using System.Globalization;
using System.Net.Sockets;
using System.Security.Authentication;
using Multiprocessing.Wire;

namespace Multiprocessing.Connections;

/// <summary>
/// CPython's mutual authentication on a fresh socket (<c>deliver_challenge</c> /
/// <c>answer_challenge</c>): the listener challenges, then answers the client's challenge; the
/// client does the reverse. It runs on the raw socket before any <see cref="Connection"/>
/// exists, reading whole frames of at most 256 bytes, so nothing past the handshake is consumed
/// and a bogus peer cannot make us allocate.
/// </summary>
/// <remarks>
/// Failures use <see cref="AuthenticationException"/> from System.Security.Authentication, the
/// BCL's "authentication failed" type (SslStream's), rather than a library type of the same name:
/// it carries the same meaning as CPython's <c>AuthenticationError</c>, and a second type with
/// that name would make every file importing both namespaces ambiguous — as
/// <c>multiprocessing.TimeoutError</c> maps to <see cref="TimeoutException"/>.
/// A peer that closes mid-handshake gives <see cref="EndOfStreamException"/> (CPython's EOFError,
/// or BrokenPipeError when our send noticed first).
/// CPython has no handshake timeout, so a silent peer blocks its accept() forever; we give up
/// after a generous <see cref="DefaultTimeout"/> so one stuck peer cannot wedge an accept loop.
/// </remarks>
internal static class Handshake
{
    /// <summary>How long a peer may take for the whole handshake: far beyond any live peer's need.</summary>
    internal static readonly TimeSpan DefaultTimeout = TimeSpan.FromSeconds(60);

    private const int MaxFrameLength = 256; // CPython's recv_bytes(256): "reject large message"

    private static ReadOnlySpan<byte> ChallengeTag => "#CHALLENGE#"u8;
    private static ReadOnlySpan<byte> Welcome => "#WELCOME#"u8;
    private static ReadOnlySpan<byte> Failure => "#FAILURE#"u8;

    /// <summary>The listener's side: challenge the client, then answer its challenge.</summary>
    internal static void AsListener(Socket socket, AuthenticationKey key, TimeSpan timeout) =>
        WithDeadline(socket, timeout, stream =>
        {
            Deliver(stream, key);
            Answer(stream, key);
        });

    /// <summary>The client's side: answer the listener's challenge, then challenge it.</summary>
    internal static void AsClient(Socket socket, AuthenticationKey key, TimeSpan timeout) =>
        WithDeadline(socket, timeout, stream =>
        {
            Answer(stream, key);
            Deliver(stream, key);
        });

    /// <summary>Async twin of <see cref="AsListener"/>; <paramref name="cancellationToken"/> cancels it.</summary>
    internal static async Task AsListenerAsync(Socket socket, AuthenticationKey key, TimeSpan timeout, CancellationToken cancellationToken)
    {
        using var deadline = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        deadline.CancelAfter(timeout);
        using var stream = new NetworkStream(socket, ownsSocket: false);
        try
        {
            await DeliverAsync(stream, key, deadline.Token).ConfigureAwait(false);
            await AnswerAsync(stream, key, deadline.Token).ConfigureAwait(false);
        }
        catch (OperationCanceledException e) when (!cancellationToken.IsCancellationRequested)
        {
            throw TimedOut(timeout, e);
        }
        catch (IOException e) when (e is not EndOfStreamException)
        {
            throw PeerGone(e);
        }
    }

    private static void Deliver(Stream stream, AuthenticationKey key)
    {
        byte[] message = HandshakeDigest.NewChallenge();
        Framing.Write(stream, [.. ChallengeTag, .. message]);
        byte[] response = ReadFrame(stream);
        Framing.Write(stream, Judge(key, message, response, out AuthenticationException? failure));
        if (failure is not null) throw failure;
    }

    private static void Answer(Stream stream, AuthenticationKey key)
    {
        Framing.Write(stream, HandshakeDigest.Respond(key.Span, ChallengeBody(ReadFrame(stream))));
        CheckWelcome(ReadFrame(stream));
    }

    private static async Task DeliverAsync(Stream stream, AuthenticationKey key, CancellationToken cancellationToken)
    {
        byte[] message = HandshakeDigest.NewChallenge();
        await WriteFrameAsync(stream, [.. ChallengeTag, .. message], cancellationToken).ConfigureAwait(false);
        byte[] response = await ReadFrameAsync(stream, cancellationToken).ConfigureAwait(false);
        byte[] verdict = Judge(key, message, response, out AuthenticationException? failure);
        await WriteFrameAsync(stream, verdict, cancellationToken).ConfigureAwait(false);
        if (failure is not null) throw failure;
    }

    private static async Task AnswerAsync(Stream stream, AuthenticationKey key, CancellationToken cancellationToken)
    {
        byte[] challenge = await ReadFrameAsync(stream, cancellationToken).ConfigureAwait(false);
        byte[] response = HandshakeDigest.Respond(key.Span, ChallengeBody(challenge));
        await WriteFrameAsync(stream, response, cancellationToken).ConfigureAwait(false);
        CheckWelcome(await ReadFrameAsync(stream, cancellationToken).ConfigureAwait(false));
    }

    /// <summary>#WELCOME# or #FAILURE# for the peer's response; a rejected peer is told before we throw, as CPython does.</summary>
    private static byte[] Judge(AuthenticationKey key, byte[] message, byte[] response, out AuthenticationException? failure)
    {
        try
        {
            HandshakeDigest.Verify(key.Span, message, response);
            failure = null;
            return Welcome.ToArray();
        }
        catch (AuthenticationException e)
        {
            failure = e;
            return Failure.ToArray();
        }
    }

    private static byte[] ChallengeBody(byte[] frame)
    {
        if (!frame.AsSpan().StartsWith(ChallengeTag))
            throw new AuthenticationException("Protocol error, expected challenge: message=" + PyRepr.Bytes(frame));
        byte[] message = frame[ChallengeTag.Length..];
        // CPython ≤3.13 forgot the f of this f-string; 3.14 (gh-127462) prints the length, as we do.
        if (message.Length < HandshakeDigest.LegacyMessageLength)
            throw new AuthenticationException($"challenge too short: {message.Length} bytes");
        return message;
    }

    private static void CheckWelcome(byte[] reply)
    {
        if (!reply.AsSpan().SequenceEqual(Welcome)) throw new AuthenticationException("digest sent was rejected");
    }

    private static byte[] ReadFrame(Stream stream)
    {
        try
        {
            return Framing.Read(stream, MaxFrameLength) ?? throw new EndOfStreamException();
        }
        catch (InvalidDataException e)
        {
            throw new AuthenticationException("Protocol error, " + e.Message, e);
        }
    }

    private static async Task<byte[]> ReadFrameAsync(Stream stream, CancellationToken cancellationToken)
    {
        try
        {
            return await Framing.ReadAsync(stream, MaxFrameLength, cancellationToken).ConfigureAwait(false)
                ?? throw new EndOfStreamException();
        }
        catch (InvalidDataException e)
        {
            throw new AuthenticationException("Protocol error, " + e.Message, e);
        }
    }

    private static async Task WriteFrameAsync(Stream stream, byte[] body, CancellationToken cancellationToken)
    {
        byte[] frame = new byte[body.Length + 4]; // handshake frames are tiny: always the 4-byte header
        Framing.WriteHeader(frame, body.Length);
        body.CopyTo(frame, 4);
        await stream.WriteAsync(frame, cancellationToken).ConfigureAwait(false);
    }

    /// <summary>
    /// Runs a blocking handshake that a watchdog ends after <paramref name="timeout"/> by shutting
    /// the socket down, which wakes a blocked read on Linux; a per-read timeout would let a peer
    /// that trickles a byte at a time hold us far longer.
    /// </summary>
    private static void WithDeadline(Socket socket, TimeSpan timeout, Action<Stream> handshake)
    {
        const int Running = 0, Finished = 1, Expired = 2;
        int state = Running;
        using var watchdog = new Timer(_ =>
        {
            if (Interlocked.CompareExchange(ref state, Expired, Running) != Running) return;
            try { socket.Shutdown(SocketShutdown.Both); }
            catch (ObjectDisposedException) { } // lost the race with the caller's cleanup: nothing left to wake
            catch (SocketException) { }
        }, null, timeout, Timeout.InfiniteTimeSpan);
        using var stream = new NetworkStream(socket, ownsSocket: false);
        try
        {
            handshake(stream);
        }
        catch (Exception e) when (Interlocked.CompareExchange(ref state, Finished, Running) == Expired)
        {
            throw TimedOut(timeout, e);
        }
        catch (IOException e) when (e is not EndOfStreamException)
        {
            throw PeerGone(e);
        }
        // Succeeded, but the watchdog may have shut the socket down just before: then it is unusable.
        if (Interlocked.CompareExchange(ref state, Finished, Running) == Expired) throw TimedOut(timeout, null);
    }

    /// <summary>
    /// A send that hits a closed peer (EPIPE) or a reset is the same event as reading its EOF:
    /// the peer left mid-handshake, whichever of our calls noticed first.
    /// </summary>
    private static EndOfStreamException PeerGone(IOException e) =>
        new("the peer closed the connection during the authentication handshake", e);

    private static AuthenticationException TimedOut(TimeSpan timeout, Exception? cause) =>
        new(string.Create(CultureInfo.InvariantCulture,
                $"the peer did not complete the authentication handshake within {timeout.TotalSeconds:0.###} seconds"),
            new TimeoutException("authentication handshake timed out", cause));
}
