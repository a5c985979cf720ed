using System.Diagnostics;

namespace AzKv.Cli.Benchmarking;

/// <summary>Where a run is at a given moment.</summary>
internal enum RunPhase
{
    /// <summary>Load, not recorded.</summary>
    Warmup,

    /// <summary>Load, recorded.</summary>
    Measure,

    /// <summary>Over: connections stop after their request in flight.</summary>
    Done,
}

/// <summary>
/// The schedule of one run as fixed Stopwatch timestamps (warm-up, then the measured window),
/// so every connection decides the phase of an operation from its own clock readings, with no
/// shared state. An operation counts when it starts and ends inside the measured window.
/// </summary>
internal sealed class RunClock
{
    public RunClock(long startTimestamp, TimeSpan warmup, TimeSpan duration)
    {
        MeasureStart = startTimestamp + (long)(warmup.TotalSeconds * Stopwatch.Frequency);
        MeasureEnd = MeasureStart + (long)(duration.TotalSeconds * Stopwatch.Frequency);
        Duration = duration;
    }

    /// <summary>Stopwatch timestamp where recording starts.</summary>
    public long MeasureStart { get; }

    /// <summary>Stopwatch timestamp where the run ends.</summary>
    public long MeasureEnd { get; }

    /// <summary>The measured window.</summary>
    public TimeSpan Duration { get; }

    public RunPhase PhaseAt(long timestamp) =>
        timestamp < MeasureStart ? RunPhase.Warmup : timestamp < MeasureEnd ? RunPhase.Measure : RunPhase.Done;
}
