using System.Text;

namespace Multiprocessing;

/// <summary>Python's <c>repr()</c> of a str or bytes, so texts that embed one match CPython byte for byte.</summary>
internal static class PyRepr
{
    internal static string Str(string s)
    {
        char quote = s.Contains('\'') && !s.Contains('"') ? '"' : '\'';
        var b = new StringBuilder(s.Length + 2).Append(quote);
        foreach (char c in s)
        {
            switch (c)
            {
                case '\\': b.Append(@"\\"); break;
                case '\n': b.Append(@"\n"); break;
                case '\r': b.Append(@"\r"); break;
                case '\t': b.Append(@"\t"); break;
                default:
                    if (c == quote) b.Append('\\').Append(c);
                    else if (c < 0x20 || c == 0x7F) b.Append(@"\x").Append(((int)c).ToString("x2", System.Globalization.CultureInfo.InvariantCulture));
                    else b.Append(c);
                    break;
            }
        }
        return b.Append(quote).ToString();
    }

    /// <summary><c>repr(bytes)</c>: <c>b'...'</c>, printable ASCII as is, the rest as <c>\xhh</c>.</summary>
    internal static string Bytes(ReadOnlySpan<byte> data)
    {
        char quote = data.Contains((byte)'\'') && !data.Contains((byte)'"') ? '"' : '\'';
        var b = new StringBuilder(data.Length + 3).Append('b').Append(quote);
        foreach (byte c in data)
        {
            switch (c)
            {
                case (byte)'\\': b.Append(@"\\"); break;
                case (byte)'\n': b.Append(@"\n"); break;
                case (byte)'\r': b.Append(@"\r"); break;
                case (byte)'\t': b.Append(@"\t"); break;
                default:
                    if (c == quote) b.Append('\\').Append(quote);
                    else if (c < 0x20 || c >= 0x7F) b.Append(@"\x").Append(c.ToString("x2", System.Globalization.CultureInfo.InvariantCulture));
                    else b.Append((char)c);
                    break;
            }
        }
        return b.Append(quote).ToString();
    }
}
