using Multiprocessing.Spawning;

namespace Multiprocessing;

public partial class Process
{
    /// <summary>
    /// CPython's repr, byte for byte:
    /// <c>&lt;Process name='Process-1' pid=123 parent=100 stopped exitcode=-SIGTERM daemon&gt;</c>.
    /// </summary>
    public override string ToString()
    {
        int? exitCode = null;
        string status;
        ChildHandle? handle = _handle;
        if (IsCurrent) status = "started";
        else if (_closed) status = "closed";
        else if (_parentPid != Environment.ProcessId) status = "unknown";
        else if (handle is null) status = "initial";
        else if (handle.Exited.IsCompletedSuccessfully) { exitCode = handle.Exited.Result; status = "stopped"; }
        else status = "started";

        var info = new List<string>(6) { _className, "name=" + PyRepr.Str(_name) };
        if (handle is not null) info.Add("pid=" + handle.Pid.ToString(System.Globalization.CultureInfo.InvariantCulture));
        info.Add("parent=" + (_parentPid?.ToString(System.Globalization.CultureInfo.InvariantCulture) ?? "None"));
        info.Add(status);
        if (exitCode is { } code) info.Add("exitcode=" + ExitCodes.Name(code));
        if (_daemon) info.Add("daemon");
        return "<" + string.Join(' ', info) + ">";
    }
}
