namespace Multiprocessing;

/// <summary>
/// An exception raised in a child process, received as data: the remote type name, message,
/// stack trace and inner exceptions (CPython only prints the traceback; a .NET parent can
/// inspect it). Available as <see cref="Process.Exception"/> after the child has ended.
/// </summary>
public sealed class RemoteException : Exception
{
    /// <summary>Creates a remote exception record.</summary>
    public RemoteException(string remoteTypeName, string message, string? remoteStackTrace, IReadOnlyList<RemoteException>? innerExceptions = null)
        : base(message, innerExceptions is { Count: > 0 } ? innerExceptions[0] : null)
    {
        RemoteTypeName = remoteTypeName;
        RemoteStackTrace = remoteStackTrace;
        InnerExceptions = innerExceptions ?? [];
    }

    /// <summary>Full name of the exception's type in the child, e.g. <c>System.DivideByZeroException</c>.</summary>
    public string RemoteTypeName { get; }

    /// <summary>The stack trace in the child.</summary>
    public string? RemoteStackTrace { get; }

    /// <summary>Inner exceptions (all of an <see cref="AggregateException"/>'s).</summary>
    public IReadOnlyList<RemoteException> InnerExceptions { get; }

    /// <summary>The remote stack trace.</summary>
    public override string? StackTrace => RemoteStackTrace;

    /// <summary>Formatted like the child's own <c>Exception.ToString()</c>.</summary>
    public override string ToString()
    {
        var text = new System.Text.StringBuilder();
        text.Append(RemoteTypeName).Append(": ").Append(Message);
        foreach (RemoteException inner in InnerExceptions)
            text.Append("\n ---> ").Append(inner.ToString()).Append("\n   --- End of inner exception stack trace ---");
        if (!string.IsNullOrEmpty(RemoteStackTrace)) text.Append('\n').Append(RemoteStackTrace);
        return text.ToString();
    }
}
