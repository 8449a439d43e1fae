using System.Security.Authentication;
using System.Security.Cryptography;
using System.Text;

namespace Multiprocessing.Connections;

/// <summary>
/// The HMAC arithmetic of CPython's connection handshake (3.12+ <c>_create_response</c>,
/// <c>_verify_challenge</c>, <c>_get_digest_name_and_payload</c>). A modern message or response
/// is <c>{digest_name}</c> + payload and its MAC covers the whole message, prefix included, so a
/// peer cannot strip the prefix to force a weaker digest. A message of exactly 20 bytes (the
/// ≤3.11 challenge) or 16 bytes (a ≤3.11 raw HMAC-MD5 response) is the legacy form: MD5, no prefix.
/// </summary>
internal static class HandshakeDigest
{
    /// <summary>Random bytes after the prefix in our challenge (CPython 3.12+ <c>MESSAGE_LENGTH</c>; must be over 20).</summary>
    internal const int MessageLength = 40;

    /// <summary>The digest our challenge asks for, as CPython 3.12+ <c>deliver_challenge</c> does.</summary>
    internal const string PreferredDigest = "sha256";

    /// <summary>A ≤3.11 challenge: 20 random bytes, no prefix. Also the shortest challenge accepted.</summary>
    internal const int LegacyMessageLength = 20;

    private const int LegacyDigestLength = 16; // a raw HMAC-MD5 response from a ≤3.11 peer
    private const int MaxDigestNameLength = 8; // "sha3_256"

    /// <summary>A fresh challenge body: <c>{sha256}</c> + 40 random bytes.</summary>
    internal static byte[] NewChallenge() =>
        [.. Prefix(PreferredDigest), .. RandomNumberGenerator.GetBytes(MessageLength)];

    /// <summary>
    /// Our answer to a challenge body: a raw HMAC-MD5 for a legacy challenge (all a ≤3.11 peer
    /// can check), else <c>{name}</c> + the HMAC with the digest the challenge names.
    /// </summary>
    internal static byte[] Respond(ReadOnlySpan<byte> key, byte[] message)
    {
        (string name, _) = Split(message);
        if (name.Length == 0) return HMACMD5.HashData(key, message);
        byte[] mac = Mac(name, key, message)
            ?? throw new AuthenticationException($"digest_name={PyRepr.Str(name)} unsupported");
        return [.. Prefix(name), .. mac];
    }

    /// <summary>
    /// Checks the peer's response to our challenge <paramref name="message"/>; throws
    /// <see cref="AuthenticationException"/> with CPython's text when it does not match. A raw
    /// 16-byte response is a ≤3.11 peer's HMAC-MD5 over the whole message and is accepted, as
    /// CPython 3.12+ accepts it: that is what lets a 3.11 client authenticate to us.
    /// </summary>
    internal static void Verify(ReadOnlySpan<byte> key, byte[] message, byte[] response)
    {
        (string name, int macStart) = Split(response);
        if (name.Length == 0) name = "md5";
        byte[] expected = Mac(name, key, message)
            ?? throw new AuthenticationException($"response_digest={PyRepr.Str(name)} unsupported");
        ReadOnlySpan<byte> mac = response.AsSpan(macStart);
        if (expected.Length != mac.Length)
            throw new AuthenticationException($"expected {PyRepr.Str(name)} of length {expected.Length} got {mac.Length}");
        // Constant time, as hmac.compare_digest: the comparison must not leak how much matched.
        if (!CryptographicOperations.FixedTimeEquals(expected, mac))
            throw new AuthenticationException("digest received was wrong");
    }

    /// <summary>
    /// The digest name and where the payload starts; name "" for the legacy 16/20-byte form.
    /// Anything else must open with <c>{name}</c> naming an allowed digest.
    /// </summary>
    private static (string Name, int PayloadStart) Split(byte[] message)
    {
        if (message.Length is LegacyMessageLength or LegacyDigestLength) return ("", 0);
        if (message.Length > 0 && message[0] == (byte)'{')
        {
            // CPython looks for '}' in message[1 : MaxDigestNameLength + 2] only.
            int window = Math.Min(message.Length, MaxDigestNameLength + 2) - 1;
            int curly = window > 0 ? message.AsSpan(1, window).IndexOf((byte)'}') + 1 : 0;
            if (curly > 0)
            {
                string name = Encoding.Latin1.GetString(message, 1, curly - 1);
                if (IsAllowed(name)) return (name, curly + 1);
            }
        }
        throw new AuthenticationException(
            "unsupported message length, missing digest prefix, or unsupported digest: message=" + PyRepr.Bytes(message));
    }

    private static bool IsAllowed(string name) => name is "md5" or "sha256" or "sha384" or "sha3_256" or "sha3_384";

    /// <summary>HMAC of <paramref name="data"/> with a digest CPython allows; null if the name is not one or the platform lacks it.</summary>
    private static byte[]? Mac(string name, ReadOnlySpan<byte> key, ReadOnlySpan<byte> data) => name switch
    {
        "md5" => HMACMD5.HashData(key, data),
        "sha256" => HMACSHA256.HashData(key, data),
        "sha384" => HMACSHA384.HashData(key, data),
        "sha3_256" when HMACSHA3_256.IsSupported => HMACSHA3_256.HashData(key, data),
        "sha3_384" when HMACSHA3_384.IsSupported => HMACSHA3_384.HashData(key, data),
        _ => null,
    };

    private static byte[] Prefix(string name) => Encoding.ASCII.GetBytes("{" + name + "}");
}
