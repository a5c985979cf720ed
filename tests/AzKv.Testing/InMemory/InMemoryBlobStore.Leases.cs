using System.Globalization;
using AzKv.Storage;

namespace AzKv.Testing;

/// <summary>
/// Blob leases: the five-state machine of the Lease Blob operation, transcribed from Azurite 3.35
/// (blob/lease/Lease*State.js) and checked against a running Azurite. Lease operations never change
/// the blob's ETag or Last-Modified. Expiry and break periods are read from the store's clock.
/// </summary>
public sealed partial class InMemoryBlobStore
{
    /// <summary>Marks a duration or period that is not a whole number of seconds (or is negative, for durations).</summary>
    private const int InvalidSeconds = int.MinValue;

    /// <inheritdoc />
    public Task<LeaseResult> AcquireLeaseAsync(
        string name, TimeSpan duration, string? proposedLeaseId, BlobConditions conditions, CancellationToken cancellationToken)
    {
        ValidateName(name);
        return RunAsync(BlobOperation.AcquireLease, name, now =>
        {
            var seconds = ToLeaseDurationSeconds(duration);
            var proposed = string.IsNullOrEmpty(proposedLeaseId) ? null : ValidateProposedLeaseId(proposedLeaseId);
            EnsureContainer();
            var entry = Find(name, now);
            CheckWriteConditions(entry, conditions with { LeaseId = null }, isCreate: false);
            entry = entry ?? throw InMemoryBlobErrors.BlobNotFound();
            var leaseId = entry.Lease.Acquire(seconds, proposed ?? NewLeaseId(), now);
            return new LeaseResult(leaseId, entry.ETag);
        }, cancellationToken);
    }

    /// <inheritdoc />
    public Task<LeaseResult> RenewLeaseAsync(string name, string leaseId, CancellationToken cancellationToken)
    {
        ValidateName(name);
        ArgumentException.ThrowIfNullOrEmpty(leaseId);
        return RunAsync(BlobOperation.RenewLease, name, now =>
        {
            var entry = FindForLeaseOperation(name, now);
            entry.Lease.Renew(leaseId, now);
            return new LeaseResult(leaseId, entry.ETag);
        }, cancellationToken);
    }

    /// <inheritdoc />
    public Task<LeaseResult> ChangeLeaseAsync(string name, string leaseId, string proposedLeaseId, CancellationToken cancellationToken)
    {
        ValidateName(name);
        ArgumentException.ThrowIfNullOrEmpty(leaseId);
        ArgumentException.ThrowIfNullOrEmpty(proposedLeaseId);
        return RunAsync(BlobOperation.ChangeLease, name, now =>
        {
            var proposed = ValidateProposedLeaseId(proposedLeaseId);
            var entry = FindForLeaseOperation(name, now);
            entry.Lease.Change(leaseId, proposed);
            return new LeaseResult(proposed, entry.ETag);
        }, cancellationToken);
    }

    /// <inheritdoc />
    public Task ReleaseLeaseAsync(string name, string leaseId, CancellationToken cancellationToken)
    {
        ValidateName(name);
        ArgumentException.ThrowIfNullOrEmpty(leaseId);
        return RunAsync(BlobOperation.ReleaseLease, name, now =>
        {
            FindForLeaseOperation(name, now).Lease.Release(leaseId);
            return true;
        }, cancellationToken);
    }

    /// <inheritdoc />
    public Task<TimeSpan> BreakLeaseAsync(string name, TimeSpan? breakPeriod, CancellationToken cancellationToken)
    {
        ValidateName(name);
        return RunAsync(BlobOperation.BreakLease, name, now =>
        {
            int? seconds = breakPeriod is { } period ? ToWholeSeconds(period) : null;
            if (seconds == InvalidSeconds)
            {
                throw InMemoryBlobErrors.InvalidHeaderValue("x-ms-lease-break-period must be whole seconds");
            }

            return FindForLeaseOperation(name, now).Lease.Break(seconds, now);
        }, cancellationToken);
    }

    private BlobEntry FindForLeaseOperation(string name, DateTimeOffset now)
    {
        EnsureContainer();
        return Find(name, now) ?? throw InMemoryBlobErrors.BlobNotFound();
    }

    /// <summary>A fresh lease id in GUID format; a counter, not a random GUID, keeps simulations reproducible.</summary>
    private string NewLeaseId()
    {
        _lastLeaseId++;
        return string.Create(CultureInfo.InvariantCulture, $"00000000-0000-4000-8000-{_lastLeaseId:x12}");
    }

    /// <summary>The service takes lease ids in GUID format only (400 InvalidHeaderValue otherwise); Azurite does not check.</summary>
    private static string ValidateProposedLeaseId(string proposedLeaseId) =>
        Guid.TryParse(proposedLeaseId, out _)
            ? proposedLeaseId
            : throw InMemoryBlobErrors.InvalidHeaderValue("x-ms-proposed-lease-id must be a GUID");

    /// <summary>-1 for infinite, whole seconds otherwise, <see cref="InvalidSeconds"/> for anything a header cannot carry.</summary>
    private static int ToLeaseDurationSeconds(TimeSpan duration) =>
        duration == Timeout.InfiniteTimeSpan ? -1
        : duration < TimeSpan.Zero ? InvalidSeconds
        : ToWholeSeconds(duration);

    private static int ToWholeSeconds(TimeSpan value) =>
        value.Ticks % TimeSpan.TicksPerSecond == 0 && Math.Abs(value.TotalSeconds) <= int.MaxValue
            ? (int)value.TotalSeconds
            : InvalidSeconds;

    /// <summary>The lease of one blob. Guarded by the store's lock.</summary>
    private sealed class BlobLease
    {
        private int? _durationSeconds;
        private DateTimeOffset? _expiresAt;
        private DateTimeOffset? _breaksAt;

        public LeaseState State { get; private set; } = LeaseState.Available;

        /// <summary>The lease id; kept while expired, breaking or broken so renew/release can name it.</summary>
        public string? Id { get; private set; }

        /// <summary>Leased or breaking: writes need the lease id (x-ms-lease-status: locked).</summary>
        public bool IsActive => State is LeaseState.Leased or LeaseState.Breaking;

        /// <summary>Moves a lease whose time is up on to its next state (Azurite LeaseFactory).</summary>
        public void Refresh(DateTimeOffset now)
        {
            if (State == LeaseState.Leased && _expiresAt is { } expiresAt && now >= expiresAt)
            {
                // The id and duration stay, so the holder can still renew if nobody took the blob.
                State = LeaseState.Expired;
                _expiresAt = null;
            }
            else if (State == LeaseState.Breaking && now >= _breaksAt)
            {
                BecomeBroken();
            }
        }

        /// <summary>
        /// After a successful write, an expired or broken lease is gone: the blob becomes available
        /// (Azurite BlobWriteLeaseSyncer), so the old holder can no longer renew it.
        /// </summary>
        public void ClearIfInactive()
        {
            if (State is LeaseState.Expired or LeaseState.Broken)
            {
                BecomeAvailable();
            }
        }

        public string Acquire(int seconds, string proposedId, DateTimeOffset now)
        {
            switch (State)
            {
                case LeaseState.Leased:
                    // Acquiring with the active lease's id renews it, with the new duration.
                    if (!string.Equals(proposedId, Id, StringComparison.Ordinal))
                    {
                        throw InMemoryBlobErrors.LeaseAlreadyPresent();
                    }

                    break;
                case LeaseState.Breaking:
                    // Azurite: the breaking lease's own id gets LeaseIsBreakingAndCannotBeAcquired,
                    // any other id (or none) LeaseAlreadyPresent.
                    throw string.Equals(proposedId, Id, StringComparison.Ordinal)
                        ? InMemoryBlobErrors.LeaseIsBreakingAndCannotBeAcquired()
                        : InMemoryBlobErrors.LeaseAlreadyPresent();
                default:
                    break;
            }

            if ((seconds < 15 || seconds > 60) && seconds != -1)
            {
                throw InMemoryBlobErrors.InvalidHeaderValue("x-ms-lease-duration must be 15 to 60 seconds, or -1");
            }

            State = LeaseState.Leased;
            Id = proposedId;
            _durationSeconds = seconds == -1 ? null : seconds;
            _expiresAt = seconds == -1 ? null : now.AddSeconds(seconds);
            _breaksAt = null;
            return proposedId;
        }

        public void Renew(string leaseId, DateTimeOffset now)
        {
            var matches = string.Equals(leaseId, Id, StringComparison.Ordinal);
            switch (State)
            {
                case LeaseState.Leased:
                case LeaseState.Expired:
                    // Azurite renews an expired lease whatever id is given; Azure, and this store,
                    // only for the id of that lease.
                    if (!matches)
                    {
                        throw InMemoryBlobErrors.LeaseIdMismatchWithLeaseOperation();
                    }

                    State = LeaseState.Leased;
                    _expiresAt = _durationSeconds is { } seconds ? now.AddSeconds(seconds) : null;
                    return;
                case LeaseState.Breaking:
                case LeaseState.Broken:
                    throw matches ? InMemoryBlobErrors.LeaseIsBrokenAndCannotBeRenewed() : InMemoryBlobErrors.LeaseIdMismatchWithLeaseOperation();
                default:
                    // Azurite answers renew on an available blob with LeaseIdMismatchWithLeaseOperation.
                    throw InMemoryBlobErrors.LeaseIdMismatchWithLeaseOperation();
            }
        }

        public void Change(string leaseId, string proposedId)
        {
            switch (State)
            {
                case LeaseState.Leased:
                    // Idempotent: changing again to the id already in place succeeds.
                    if (!string.Equals(leaseId, Id, StringComparison.Ordinal) && !string.Equals(proposedId, Id, StringComparison.Ordinal))
                    {
                        throw InMemoryBlobErrors.LeaseIdMismatchWithLeaseOperation();
                    }

                    Id = proposedId;
                    return;
                case LeaseState.Breaking:
                    throw string.Equals(leaseId, Id, StringComparison.Ordinal)
                        ? InMemoryBlobErrors.LeaseIsBreakingAndCannotBeChanged()
                        : InMemoryBlobErrors.LeaseIdMismatchWithLeaseOperation();
                default:
                    throw InMemoryBlobErrors.LeaseNotPresentWithLeaseOperation();
            }
        }

        public void Release(string leaseId)
        {
            // Azurite answers release on an available blob with LeaseIdMismatchWithLeaseOperation too.
            if (State == LeaseState.Available || !string.Equals(leaseId, Id, StringComparison.Ordinal))
            {
                throw InMemoryBlobErrors.LeaseIdMismatchWithLeaseOperation();
            }

            BecomeAvailable();
        }

        /// <summary>Breaks the lease; returns the time until it is broken, in whole seconds as x-ms-lease-time.</summary>
        public TimeSpan Break(int? periodSeconds, DateTimeOffset now)
        {
            switch (State)
            {
                case LeaseState.Available:
                    throw InMemoryBlobErrors.LeaseNotPresentWithLeaseOperation();
                case LeaseState.Expired:
                    BecomeBroken();
                    break;
                case LeaseState.Broken:
                    break;
                case LeaseState.Leased when _expiresAt is null:
                    // Infinite lease: no period means at once. Azurite accepts any period here;
                    // the service (and this store) only 0 to 60 seconds.
                    if (periodSeconds is null or 0)
                    {
                        BecomeBroken();
                    }
                    else
                    {
                        StartBreaking(now.AddSeconds(ValidBreakPeriod(periodSeconds.Value)));
                    }

                    break;
                case LeaseState.Leased:
                    if (periodSeconds == 0)
                    {
                        BecomeBroken();
                    }
                    else if (periodSeconds is null)
                    {
                        StartBreaking(_expiresAt!.Value);
                    }
                    else
                    {
                        var breaksAt = now.AddSeconds(ValidBreakPeriod(periodSeconds.Value));
                        StartBreaking(breaksAt < _expiresAt!.Value ? breaksAt : _expiresAt.Value);
                    }

                    break;
                case LeaseState.Breaking:
                    if (periodSeconds == 0)
                    {
                        BecomeBroken();
                    }
                    else if (periodSeconds is not null)
                    {
                        // A second break can only shorten the break period.
                        var breaksAt = now.AddSeconds(ValidBreakPeriod(periodSeconds.Value));
                        StartBreaking(breaksAt < _breaksAt!.Value ? breaksAt : _breaksAt.Value);
                    }

                    break;
                default:
                    throw new InvalidOperationException($"Unknown lease state {State}.");
            }

            return State == LeaseState.Breaking
                ? TimeSpan.FromSeconds(Math.Round((_breaksAt!.Value - now).TotalSeconds, MidpointRounding.AwayFromZero))
                : TimeSpan.Zero;
        }

        private static int ValidBreakPeriod(int seconds) =>
            seconds is >= 0 and <= 60
                ? seconds
                : throw InMemoryBlobErrors.InvalidHeaderValue("x-ms-lease-break-period must be 0 to 60 seconds");

        private void StartBreaking(DateTimeOffset breaksAt)
        {
            State = LeaseState.Breaking;
            _durationSeconds = null;
            _expiresAt = null;
            _breaksAt = breaksAt;
        }

        private void BecomeBroken()
        {
            State = LeaseState.Broken;
            _durationSeconds = null;
            _expiresAt = null;
            _breaksAt = null;
        }

        private void BecomeAvailable()
        {
            State = LeaseState.Available;
            Id = null;
            _durationSeconds = null;
            _expiresAt = null;
            _breaksAt = null;
        }
    }
}
