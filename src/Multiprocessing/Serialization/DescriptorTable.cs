namespace Multiprocessing.Serialization;

/// <summary>
/// The descriptors a start's payload may name: by the number the parent wrote, and the number
/// each has in this process. The same for a spawned child, which inherited them under their
/// own numbers; new ones for a forkserver spare, which received them with the payload
/// (SCM_RIGHTS, as CPython's forkserver passes them). Arrays, not a Dictionary: a child that
/// decodes no descriptor must not load the collections facade for it.
/// </summary>
internal sealed class DescriptorTable
{
    private readonly int[] _parents;
    private readonly int[] _own;

    private DescriptorTable(int[] parents, int[] own)
    {
        if (parents.Length != own.Length)
            throw Mismatch(parents.Length, own.Length);
        _parents = parents;
        _own = own;
    }

    internal static readonly DescriptorTable None = new(EmptyInts.Value, EmptyInts.Value);

    /// <summary>Descriptors inherited across exec: the parent's numbers are ours.</summary>
    internal static DescriptorTable Inherited(int[] fds) => new(fds, fds);

    /// <summary>Descriptors received in this order for the parent's <paramref name="parents"/>.</summary>
    internal static DescriptorTable Received(int[] parents, int[] own) => new(parents, own);

    /// <summary>This process's number for the parent's descriptor <paramref name="parents"/>.</summary>
    internal bool TryTranslate(int parents, out int own)
    {
        int i = Array.IndexOf(_parents, parents);
        own = i >= 0 ? _own[i] : -1;
        return i >= 0;
    }

    // Out of line: a ReadyToRun method loads every type it names when first entered, and this
    // type's methods are on a spawned child's start path, which never throws.
    private static InvalidDataException Mismatch(int announced, int received) =>
        ByteCursor.Corrupt($"{announced} descriptors announced, {received} received");
}
