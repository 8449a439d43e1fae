using System.Diagnostics;
using System.Net.Sockets;
using System.Security.Cryptography;
using Xunit;

namespace Multiprocessing.Tests.Connections;

/// <summary>
/// The framing against the reference: a real CPython <c>multiprocessing.connection.Connection</c>
/// on the other end of a Unix socket reads what this side sends and answers in its own framing.
/// </summary>
public sealed class PythonInteropTests
{
    private static readonly TimeSpan Long = TimeSpan.FromSeconds(60);

    // For each message: its SHA-256 and the message reversed, both through CPython's send_bytes.
    private const string Echo = """
        import hashlib, socket, sys
        from multiprocessing.connection import Connection
        s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        s.connect(sys.argv[1])
        c = Connection(s.detach())
        while True:
            try:
                m = c.recv_bytes()
            except EOFError:
                break
            c.send_bytes(hashlib.sha256(m).digest())
            c.send_bytes(m[::-1])
        c.close()
        """;

    [Theory]
    [PythonPeer("python3"), PythonPeer("3.11"), PythonPeer("3.13")]
    public void A_CPython_Connection_reads_our_frames_and_we_read_its_frames(string peer)
    {
        string path = Path.Combine(Path.GetTempPath(), $"mp-py-{Environment.ProcessId}-{Guid.NewGuid():N}.sock");
        using var listener = new Socket(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified);
        listener.Bind(new UnixDomainSocketEndPoint(path));
        listener.Listen(1);
        var psi = new ProcessStartInfo("python3") { UseShellExecute = false, RedirectStandardError = true };
        if (PythonPeerAttribute.PyenvVersion(peer) is { } version) psi.Environment["PYENV_VERSION"] = version;
        psi.ArgumentList.Add("-c");
        psi.ArgumentList.Add(Echo);
        psi.ArgumentList.Add(path);
        using var python = System.Diagnostics.Process.Start(psi)!;
        try
        {
            Task<string> stderr = python.StandardError.ReadToEndAsync();
            Assert.True(listener.Poll(Long, SelectMode.SelectRead), "python3 did not connect");
            using Connection conn = Connection.FromSocket(listener.Accept());
            foreach (int size in new[] { 0, 1, 65_536, 65_537, 1_000_000, 16 * 1024 * 1024 })
            {
                byte[] msg = RandomNumberGenerator.GetBytes(size);
                var sender = new Thread(() => conn.SendBytes(msg));
                sender.Start(); // CPython answers only after the whole message, which may exceed the socket buffer
                Assert.Equal(SHA256.HashData(msg), conn.RecvBytes());
                byte[] reversed = conn.RecvBytes();
                Array.Reverse(reversed);
                Assert.Equal(msg, reversed);
                Assert.True(sender.Join(Long));
            }
            conn.Close();
            Assert.True(python.WaitForExit(Long), "python3 did not exit after EOF");
            Assert.True(python.ExitCode == 0, $"python3 exit {python.ExitCode}: {stderr.Result}");
        }
        finally
        {
            if (!python.HasExited) python.Kill();
            File.Delete(path);
        }
    }
}
