namespace Multiprocessing.Spawning;

/// <summary>What a child host is told at launch (<see cref="ChildLaunch"/>): its channel, the descriptors passed on purpose, and whether it is a forkserver spare.</summary>
internal readonly record struct ChildStart(int Channel, int[] Inherited, bool Spare);
