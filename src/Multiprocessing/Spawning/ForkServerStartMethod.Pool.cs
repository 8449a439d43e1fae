namespace Multiprocessing.Spawning;

/// <summary>The pool of spares: how many, when one boots, when the extra ones are closed.</summary>
internal sealed partial class ForkServerStartMethod
{
    /// <summary>
    /// A start found no idle spare, so it boots a host of its own (~60 ms instead of ~1): keep one
    /// more spare from now on, so the next burst of the same size finds one each. CPython's
    /// forkserver forks one child per start on demand; a .NET runtime cannot be forked, so the
    /// pool of booted hosts follows the demand instead, and shrinks again once it is gone (<see cref="Retire"/>).
    /// </summary>
    private void NoteShortage()
    {
        lock (_lock)
        {
            if (!_hadSpare || _discarded || _wanted >= MaxSpares) return;
            _wanted++;
            _retireTimer.Change(_retireAfter, Timeout.InfiniteTimeSpan);
        }
    }

    /// <summary>
    /// After <c>retireAfter</c> without a start, keeps one spare again: closes the others' channels
    /// (each exits on the end of stream), those still warming up first.
    /// </summary>
    private void Retire()
    {
        lock (_lock)
        {
            if (_discarded || _wanted == 1) return;
            long quietMs = Environment.TickCount64 - _lastStart;
            if (quietMs < (long)_retireAfter.TotalMilliseconds)
            {
                _retireTimer.Change(TimeSpan.FromMilliseconds((long)_retireAfter.TotalMilliseconds - quietMs), Timeout.InfiniteTimeSpan);
                return;
            }
            _wanted = 1;
            PruneIdle();
            while (_idle.Count > _wanted)
            {
                ChildHandle h = _idle.FindLast(c => !c.Ready.IsCompleted) ?? _idle[^1];
                _idle.Remove(h);
                h.Dispose();
            }
        }
    }

    /// <summary>
    /// Closes every idle spare's channel (each exits on the end of stream) and launches no more;
    /// a spare still booting is discarded when it arrives. Returns the pids of the spares closed.
    /// For a context that is done with (a test's own).
    /// </summary>
    internal IReadOnlyList<int> DiscardSpares()
    {
        lock (_lock)
        {
            _discarded = true;
            _replenishTimer.Dispose();
            _retireTimer.Dispose();
            int[] pids = [.. _idle.Select(h => h.Pid)];
            foreach (ChildHandle h in _idle) h.Dispose();
            _idle.Clear();
            return pids;
        }
    }

    /// <summary>
    /// Launches a spare if fewer are idle than wanted and none is booting: one boot at a time,
    /// because each costs ~100 ms of CPU that would compete with the children just started; the
    /// next follows when this one is warm.
    /// </summary>
    private void Replenish()
    {
        lock (_lock)
        {
            if (_discarded) return;
            PruneIdle();
            if (_launching || _idle.Count >= _wanted || _idle.Exists(h => !h.Ready.IsCompleted)) return;
            _launching = true;
        }
        _ = Task.Run(() =>
        {
            try
            {
                ChildHandle spare = LaunchSpare();
                lock (_lock)
                {
                    _launching = false;
                    _retryDelay = FirstRetryDelay;
                    if (_discarded)
                    {
                        spare.Dispose();
                        return;
                    }
                    _idle.Add(spare);
                    _hadSpare = true;
                }
                _ = spare.Ready.ContinueWith(_ => Replenish(), CancellationToken.None, TaskContinuationOptions.OnlyOnRanToCompletion, TaskScheduler.Default);
            }
            catch (Exception)
            {
                // Any failure (fork's EAGAIN and socketpair's EMFILE arrive as Win32Exception and
                // SocketException): no spare this time, and nothing else would ask again until
                // a start or an exit, so try later, less often while it keeps failing. A start
                // meanwhile launches a host itself and says why if that fails too.
                lock (_lock)
                {
                    _launching = false;
                    if (!_discarded)
                    {
                        _replenishTimer.Change(_retryDelay, Timeout.InfiniteTimeSpan);
                        _retryDelay = TimeSpan.FromTicks(Math.Min(_retryDelay.Ticks * 2, MaxRetryDelay.Ticks));
                    }
                }
            }
        });
    }
}
