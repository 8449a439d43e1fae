using System.Security.Cryptography;

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

    internal static AuthenticationKey CreateRandom() => new(RandomNumberGenerator.GetBytes(32));

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
