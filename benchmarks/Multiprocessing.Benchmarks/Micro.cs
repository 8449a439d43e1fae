using BenchmarkDotNet.Attributes;
using Multiprocessing.Serialization;
using Multiprocessing.Wire;

namespace Multiprocessing.Benchmarks;

/// <summary>Framing hot path: header + body onto a stream and back.</summary>
[MemoryDiagnoser]
public class FramingBenchmarks
{
    [Params(16, 64 * 1024)]
    public int Size { get; set; }

    private byte[] _message = [];
    private readonly MemoryStream _stream = new();

    [GlobalSetup]
    public void Setup() => _message = new byte[Size];

    [Benchmark]
    public byte[]? WriteThenRead()
    {
        _stream.Position = 0;
        _stream.SetLength(0);
        Framing.Write(_stream, _message);
        _stream.Position = 0;
        return Framing.Read(_stream);
    }
}

/// <summary>Serializer hot paths: a small object graph round-trip through the library's serializer.</summary>
[MemoryDiagnoser]
public class SerializerBenchmarks
{
    private readonly BinarySerializer _serializer = new();
    private readonly object?[] _small = [42, "hello", 3.5, true, null, new[] { 1, 2, 3 }];
    private byte[] _smallBytes = [];

    // The compare table's pipe message.
    private readonly object _message = PipeRoundTrip.SmallMessage();
    private byte[] _messageBytes = [];

    [GlobalSetup]
    public void Setup()
    {
        _smallBytes = _serializer.Serialize(_small);
        _messageBytes = _serializer.Serialize(_message);
    }

    [Benchmark]
    public byte[] SerializeSmall() => _serializer.Serialize(_small);

    [Benchmark]
    public object? DeserializeSmall() => _serializer.Deserialize(_smallBytes);

    [Benchmark]
    public byte[] SerializeMessage() => _serializer.Serialize(_message);

    [Benchmark]
    public object? DeserializeMessage() => _serializer.Deserialize(_messageBytes);
}
