using System.Security.Cryptography;
using Microsoft.Win32.SafeHandles;

namespace Multiprocessing;

/// <summary>
/// A process's authentication key (CPython <c>AuthenticationString</c>): 32 random bytes in
/// the main process, inherited by every child. It refuses to be serialized except as part of
/// starting a process, so it is never sent over a connection by accident.
/// </summary>
/// <example><code>var p = new Process(Work) { AuthKey = "secret"u8.ToArray() };</code></example>
public sealed class AuthenticationKey : IEquatable<AuthenticationKey>
{
    private readonly byte[] _key;

    /// <summary>Creates a key holding a copy of <paramref name="key"/>.</summary>
    public AuthenticationKey(ReadOnlySpan<byte> key) => _key = key.ToArray();

    /// <summary>Wraps bytes as a key (CPython's authkey setter accepts any bytes).</summary>
    public static implicit operator AuthenticationKey(byte[] key)
    {
        ArgumentNullException.ThrowIfNull(key);
        return new AuthenticationKey(key);
    }

    /// <summary>
    /// A key over <paramref name="owned"/> itself: bytes made for it (drawn at random, read from a
    /// payload) that nothing else holds. No copy through a span: a child's start path takes
    /// none (ByteCursor says why).
    /// </summary>
    internal static AuthenticationKey Adopt(byte[] owned) => new(owned, default(Adopting));

    private readonly struct Adopting;

    private AuthenticationKey(byte[] owned, Adopting _) => _key = owned;

    internal static AuthenticationKey CreateRandom() => Adopt(KernelRandomBytes(32));

    /// <summary>
    /// <paramref name="count"/> bytes from the kernel's random source, as CPython's
    /// <c>os.urandom</c> reads them (its fallback from <c>getrandom(2)</c> is
    /// <c>/dev/urandom</c>); <see cref="RandomNumberGenerator"/> where there is none. Not
    /// RandomNumberGenerator first: on Linux it loads OpenSSL (libssl, libcrypto and its
    /// configuration), which cost the first <see cref="Process"/> of every program 10–11 ms
    /// (measured cold) and the parent a few MiB; reading /dev/urandom cold: 1.3 ms.
    /// </summary>
    internal static byte[] KernelRandomBytes(int count)
    {
        var bytes = new byte[count];
        if (!OperatingSystem.IsWindows())
        {
            try
            {
                using SafeFileHandle random = File.OpenHandle("/dev/urandom");
                int got = 0;
                while (got < count && RandomAccess.Read(random, bytes.AsSpan(got), 0) is var n and > 0) got += n;
                if (got == count) return bytes;
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException or NotSupportedException)
            {
                // No /dev in this sandbox: the BCL's generator below.
            }
        }
        FillFromGenerator(bytes);
        return bytes;
    }

    // Apart: a ReadyToRun method binds what it calls on first entry, and this one's assembly
    // (and OpenSSL behind it) should load only when it is called.
    [System.Runtime.CompilerServices.MethodImpl(System.Runtime.CompilerServices.MethodImplOptions.NoInlining)]
    private static void FillFromGenerator(byte[] bytes) => RandomNumberGenerator.Fill(bytes);

    /// <summary>Number of bytes in the key.</summary>
    public int Length => _key.Length;

    /// <summary>A copy of the key bytes.</summary>
    public byte[] ToArray() => (byte[])_key.Clone();

    internal ReadOnlySpan<byte> Span => _key;

    /// <inheritdoc/>
    public bool Equals(AuthenticationKey? other) =>
        other is not null && CryptographicOperations.FixedTimeEquals(_key, other._key);

    /// <inheritdoc/>
    public override bool Equals(object? obj) => obj is AuthenticationKey k && Equals(k);

    /// <inheritdoc/>
    public override int GetHashCode()
    {
        var h = new HashCode();
        h.AddBytes(_key);
        return h.ToHashCode();
    }

    /// <summary>Value equality.</summary>
    public static bool operator ==(AuthenticationKey? a, AuthenticationKey? b) => a is null ? b is null : a.Equals(b);

    /// <summary>Value inequality.</summary>
    public static bool operator !=(AuthenticationKey? a, AuthenticationKey? b) => !(a == b);

    /// <summary>Shows the length only: a key must not end up in logs.</summary>
    public override string ToString() => $"AuthenticationKey({_key.Length} bytes)";
}
