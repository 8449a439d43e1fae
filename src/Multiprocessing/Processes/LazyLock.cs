namespace Multiprocessing;

/// <summary>
/// Locks made when first taken. The first <see cref="Lock"/> a process constructs runs Lock's
/// static constructor (spin settings read from the runtime config: ~0.4 ms in a cold process,
/// measured) and the first one entered sets up the thread's lock id (~0.3 ms, a JIT
/// compilation). A spawned child that contends for nothing before its target, nor on its way
/// out, then pays for neither.
/// </summary>
internal static class LazyLock
{
    internal static Lock Get(ref Lock? field) => Volatile.Read(ref field) ?? Create(ref field);

    // Not inlined into the callers: the generic CompareExchange resolves through the
    // System.Threading facade, which a ReadyToRun caller would load on its first entry.
    [System.Runtime.CompilerServices.MethodImpl(System.Runtime.CompilerServices.MethodImplOptions.NoInlining)]
    private static Lock Create(ref Lock? field)
    {
        Interlocked.CompareExchange(ref field, new Lock(), null);
        return field!;
    }
}
