using System.Globalization;
using SysProcess = System.Diagnostics.Process;

namespace Multiprocessing.Benchmarks;

/// <summary>One mapping name's totals (KiB) from /proc/&lt;pid&gt;/smaps.</summary>
internal sealed record MappingFigures(long Rss, long Pss, long PrivateDirty, long PrivateClean);

/// <summary>
/// `memory`: where an idle child's PSS goes, against a bare idle `dotnet` app measured with it
/// (both alive at once, so both share the runtime's pages with the same set of processes).
/// </summary>
internal static class MemoryBreakdown
{
    public static int Run(int reps, bool maps, IReadOnlyDictionary<string, string> childEnvironment)
    {
        ProcessContext spawn = Context.Get("spawn");
        var ours = new List<Memory>();
        var bare = new List<Memory>();
        var console = new List<Memory>();
        for (int i = 0; i < reps; i++)
        {
            bool last = i == reps - 1;
            (Memory o, Memory b, Memory c, int neighbours) = Measure.IdleTrio(spawn, last && maps ? Print : null, childEnvironment);
            if (neighbours > 0) Console.WriteLine($"warning: {neighbours} other .NET process(es) alive: PSS figures lower, the ratio higher than on a quiet machine");
            ours.Add(o);
            bare.Add(b);
            console.Add(c);
        }
        foreach ((string name, Func<Memory, long> pick) in new (string, Func<Memory, long>)[]
                 { ("RSS", m => m.Rss), ("PSS", m => m.Pss), ("private dirty", m => m.PrivateDirty) })
        {
            double o = Measure.Median(ours.Select(m => (double)pick(m)));
            double b = Measure.Median(bare.Select(m => (double)pick(m)));
            double c = Measure.Median(console.Select(m => (double)pick(m)));
            Console.WriteLine($"{name,-14} ours {o / 1024:F2} MiB  bare sleep {b / 1024:F2} MiB {o / b:F2}×  bare console {c / 1024:F2} MiB {o / c:F2}×  " +
                              $"(median of {reps}; ours {string.Join(' ', ours.Select(m => pick(m)))}; sleep {string.Join(' ', bare.Select(m => pick(m)))}; " +
                              $"console {string.Join(' ', console.Select(m => pick(m)))})");
        }
        return 0;
    }

    /// <summary>Sums /proc/&lt;pid&gt;/smaps by mapping name; anonymous mappings are "[anon]".</summary>
    public static Dictionary<string, MappingFigures> ReadMappings(int pid)
    {
        var totals = new Dictionary<string, MappingFigures>();
        string current = "[anon]";
        foreach (string line in File.ReadLines($"/proc/{pid}/smaps"))
        {
            string[] parts = line.Split(' ', StringSplitOptions.RemoveEmptyEntries);
            if (parts.Length >= 5 && parts[0].Contains('-') && !parts[0].EndsWith(':'))
            {
                current = parts.Length >= 6 ? string.Join(' ', parts[5..]) : "[anon]";
                if (current.StartsWith("/memfd:doublemapper", StringComparison.Ordinal)) current = "/memfd:doublemapper";
                continue;
            }
            if (parts.Length != 3 || parts[2] != "kB") continue;
            long kib = long.Parse(parts[1], CultureInfo.InvariantCulture);
            MappingFigures f = totals.GetValueOrDefault(current) ?? new MappingFigures(0, 0, 0, 0);
            f = parts[0] switch
            {
                "Rss:" => f with { Rss = f.Rss + kib },
                "Pss:" => f with { Pss = f.Pss + kib },
                "Private_Dirty:" => f with { PrivateDirty = f.PrivateDirty + kib },
                "Private_Clean:" => f with { PrivateClean = f.PrivateClean + kib },
                _ => f,
            };
            totals[current] = f;
        }
        return totals;
    }

    private static void Print(int ourPid, int barePid)
    {
        Dictionary<string, MappingFigures> o = ReadMappings(ourPid), b = ReadMappings(barePid);
        var empty = new MappingFigures(0, 0, 0, 0);
        Console.WriteLine($"{"mapping",-70} {"PSS ours",9} {"bare",7} {"Δ",6} | {"PrivDirty ours",14} {"bare",6} | {"RSS ours",8} {"bare",6}");
        foreach (string name in o.Keys.Union(b.Keys)
                     .OrderByDescending(n => Math.Abs(o.GetValueOrDefault(n, empty).Pss - b.GetValueOrDefault(n, empty).Pss)))
        {
            MappingFigures x = o.GetValueOrDefault(name, empty), y = b.GetValueOrDefault(name, empty);
            if (x.Rss == 0 && y.Rss == 0) continue;
            string shortName = name.Length > 70 ? "…" + name[^69..] : name;
            Console.WriteLine($"{shortName,-70} {x.Pss,9} {y.Pss,7} {x.Pss - y.Pss,6} | {x.PrivateDirty,14} {y.PrivateDirty,6} | {x.Rss,8} {y.Rss,6}");
        }
        SortedSet<long> ourWindows = ResidentWindows(ourPid, "System.Private.CoreLib.dll"), bareWindows = ResidentWindows(barePid, "System.Private.CoreLib.dll");
        Console.WriteLine($"CoreLib code: 64 KiB windows with resident pages: ours {ourWindows.Count}, bare {bareWindows.Count}; ours only, at offsets: " +
                          string.Join(' ', ourWindows.Except(bareWindows).Select(w => $"0x{w:x}")));
        Console.WriteLine($"threads: ours {Directory.GetDirectories($"/proc/{ourPid}/task").Length} " +
                          $"({string.Join(", ", ThreadNames(ourPid))}); bare {Directory.GetDirectories($"/proc/{barePid}/task").Length} " +
                          $"({string.Join(", ", ThreadNames(barePid))})");
    }

    /// <summary>
    /// Offsets of the 64 KiB windows of a file's executable mapping with any page resident, from
    /// /proc/&lt;pid&gt;/pagemap (root only; empty otherwise). The kernel maps a file's cached pages
    /// 16 at a time around each fault, so a window is the unit a process pays for: one call into
    /// a part of CoreLib no other step reached costs the child 64 KiB of RSS.
    /// </summary>
    private static SortedSet<long> ResidentWindows(int pid, string file)
    {
        var windows = new SortedSet<long>();
        try
        {
            using FileStream pagemap = File.OpenRead($"/proc/{pid}/pagemap");
            var entry = new byte[8];
            foreach (string line in File.ReadLines($"/proc/{pid}/maps"))
            {
                string[] f = line.Split(' ', StringSplitOptions.RemoveEmptyEntries);
                if (f.Length < 6 || f[1] != "r-xp" || !f[5].EndsWith(file, StringComparison.Ordinal)) continue;
                string[] range = f[0].Split('-');
                long start = long.Parse(range[0], NumberStyles.HexNumber, CultureInfo.InvariantCulture);
                long end = long.Parse(range[1], NumberStyles.HexNumber, CultureInfo.InvariantCulture);
                for (long page = start; page < end; page += 4096)
                {
                    pagemap.Position = page / 4096 * 8;
                    if (pagemap.Read(entry) == 8 && (BitConverter.ToUInt64(entry) & (1UL << 63)) != 0) windows.Add((page - start) & ~0xFFFFL);
                }
            }
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException) { }
        return windows;
    }

    private static IEnumerable<string> ThreadNames(int pid) =>
        Directory.GetDirectories($"/proc/{pid}/task").Select(t => File.ReadAllText(Path.Combine(t, "comm")).Trim()).Order();
}
