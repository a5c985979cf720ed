using System.Net.Http;
using Azure;
using Azure.Identity;
using AzKv.Storage.AzureBlob.Errors;

namespace AzKv.Storage.Tests.AzureBlob;

/// <summary>The one mapping from the SDK's failures to <see cref="BlobStorageException"/> and its predicates.</summary>
public sealed class BlobErrorsTests
{
    private static readonly OperationContext Context = new("Append Block", "azkv", "partitions/0001/wal/x.log");

    /// <summary>Status, x-ms-error-code, and the predicates that must hold (every other named predicate must not).</summary>
    public static TheoryData<int, string?, string[]> Table => new()
    {
        { 404, "BlobNotFound", ["IsNotFound"] },
        { 404, "ContainerNotFound", ["IsNotFound", "IsContainerNotFound"] },
        { 409, "BlobAlreadyExists", ["IsAlreadyExists", "IsPreconditionFailed"] },
        { 409, "ContainerAlreadyExists", ["IsAlreadyExists"] },
        { 412, "ConditionNotMet", ["IsConditionNotMet", "IsPreconditionFailed"] },
        { 304, "ConditionNotMet", ["IsConditionNotMet", "IsPreconditionFailed", "IsNotModified"] },
        { 304, null, ["IsConditionNotMet", "IsPreconditionFailed", "IsNotModified"] },
        { 412, "AppendPositionConditionNotMet", ["IsAppendPositionMismatch"] },
        { 409, "BlobIsSealed", ["IsBlobSealed"] },
        { 409, "BlockCountExceedsLimit", ["IsBlockCountExceeded"] },
        { 409, "InvalidBlobType", ["IsInvalidBlobType"] },
        { 416, "InvalidRange", ["IsInvalidRange"] },
        { 412, "LeaseLost", ["IsLeaseLost"] },
        { 412, "LeaseIdMissing", ["IsLeaseLost"] },
        { 412, "LeaseIdMismatchWithBlobOperation", ["IsLeaseLost"] },
        { 412, "LeaseNotPresentWithBlobOperation", ["IsLeaseLost"] },
        { 409, "LeaseAlreadyPresent", ["IsLeaseConflict"] },
        { 409, "LeaseIdMismatchWithLeaseOperation", ["IsLeaseConflict", "IsLeaseLost"] },
        { 409, "LeaseNotPresentWithLeaseOperation", ["IsLeaseConflict", "IsLeaseLost"] },
        { 409, "LeaseIsBrokenAndCannotBeRenewed", ["IsLeaseConflict", "IsLeaseLost"] },
        { 409, "LeaseIsBreakingAndCannotBeAcquired", ["IsLeaseConflict"] },
        { 409, "LeaseAlreadyBroken", ["IsLeaseConflict"] },
        { 503, "ServerBusy", ["IsThrottled", "IsTransient"] },
        { 429, null, ["IsThrottled", "IsTransient"] },
        { 500, "InternalError", ["IsTransient"] },
        { 500, "OperationTimedOut", ["IsTransient"] },
        { 408, null, ["IsTransient"] },
        { 403, "AuthenticationFailed", ["IsAuthenticationFailed"] },
        { 403, "AuthorizationFailure", ["IsAuthenticationFailed"] },
        { 401, "InvalidAuthenticationInfo", ["IsAuthenticationFailed"] },
        { 400, "InvalidHeaderValue", [] },
    };

    [Theory]
    [MemberData(nameof(Table))]
    public void TryTranslate_WhenServiceAnswered_KeepsStatusAndCodeAndSetsOnlyTheNamedPredicates(int status, string? code, string[] expected)
    {
        var failure = new RequestFailedException(status, "Service request failed.", code, innerException: null);

        Assert.True(BlobErrors.TryTranslate(failure, Context, CancellationToken.None, out Exception translated));

        var error = Assert.IsType<BlobStorageException>(translated);
        Assert.Equal(status, error.Status);
        Assert.Equal(code, error.ErrorCode);
        Assert.Same(failure, error.InnerException);
        Assert.Equal(expected.Order(StringComparer.Ordinal), TruePredicates(error));
    }

    [Fact]
    public void TryTranslate_WhenErrorCodeEmpty_ReportsNullCode()
    {
        Assert.True(BlobErrors.TryTranslate(new RequestFailedException(500, "x", string.Empty, null), Context, CancellationToken.None, out Exception translated));
        Assert.Null(Assert.IsType<BlobStorageException>(translated).ErrorCode);
    }

    [Fact]
    public void TryTranslate_WhenSdkMessageCarriesServiceDetail_MessageDoesNotRepeatIt()
    {
        // A refused Shared Key signature comes back with the string the service signed in the body,
        // which the SDK copies into its message. Ours names the operation, status and code only.
        var failure = new RequestFailedException(403, "Server used following string to sign: 'PUT\n...SECRET-ISH'", "AuthenticationFailed", null);

        Assert.True(BlobErrors.TryTranslate(failure, Context, CancellationToken.None, out Exception translated));

        Assert.Equal("Append Block of 'azkv/partitions/0001/wal/x.log' failed: HTTP 403 AuthenticationFailed", translated.Message);
    }

    public static TheoryData<Exception> NoResponseFailures => new()
    {
        new RequestFailedException("connection refused", new HttpRequestException("connection refused")),
        new HttpRequestException("reset"),
        new IOException("body cut short"),
        new TaskCanceledException("network timeout"),
        new AggregateException("Retry failed after 4 tries.", new RequestFailedException("a", new HttpRequestException("a")), new TaskCanceledException("b")),
    };

    [Theory]
    [MemberData(nameof(NoResponseFailures))]
    public void TryTranslate_WhenNoResponseArrived_IsOutcomeUnknownAndTransient(Exception failure)
    {
        Assert.True(BlobErrors.TryTranslate(failure, Context, CancellationToken.None, out Exception translated));

        var error = Assert.IsType<BlobStorageException>(translated);
        Assert.Equal(0, error.Status);
        Assert.Equal(BlobErrorCodes.NoResponse, error.ErrorCode);
        Assert.True(error.IsOutcomeUnknown);
        Assert.True(error.IsTransient);
        Assert.Equal(["IsOutcomeUnknown", "IsTransient"], TruePredicates(error));
    }

    [Fact]
    public void TryTranslate_WhenCallerCanceled_StaysOperationCanceled()
    {
        using var canceled = new CancellationTokenSource();
        canceled.Cancel();
        var original = new TaskCanceledException("canceled");

        Assert.False(BlobErrors.TryTranslate(original, Context, canceled.Token, out Exception same));
        Assert.Same(original, same);

        Assert.True(BlobErrors.TryTranslate(new RequestFailedException("x", new HttpRequestException("x")), Context, canceled.Token, out Exception translated));
        var cancellation = Assert.IsType<OperationCanceledException>(translated);
        Assert.Equal(canceled.Token, cancellation.CancellationToken);
    }

    [Fact]
    public void TryTranslate_WhenCredentialFails_IsAuthenticationFailedWithoutRequest()
    {
        Assert.True(BlobErrors.TryTranslate(new AuthenticationFailedException("no managed identity endpoint"), Context, CancellationToken.None, out Exception translated));

        var error = Assert.IsType<BlobStorageException>(translated);
        Assert.Equal(401, error.Status);
        Assert.Equal(BlobErrors.CredentialUnavailable, error.ErrorCode);
        Assert.True(error.IsAuthenticationFailed);
        Assert.False(error.IsTransient);
    }

    [Fact]
    public void TryTranslate_WhenBug_PropagatesUnchanged()
    {
        Assert.False(BlobErrors.TryTranslate(new InvalidOperationException("bug"), Context, CancellationToken.None, out _));
        Assert.False(BlobErrors.TryTranslate(new BlobStorageException(400, "X", "already ours"), Context, CancellationToken.None, out _));
    }

    private static string[] TruePredicates(BlobStorageException error) =>
        typeof(BlobStorageException).GetProperties()
            .Where(p => p.PropertyType == typeof(bool) && p.Name.StartsWith("Is", StringComparison.Ordinal))
            .Where(p => (bool)p.GetValue(error)!)
            .Select(p => p.Name)
            .Order(StringComparer.Ordinal)
            .ToArray();
}
