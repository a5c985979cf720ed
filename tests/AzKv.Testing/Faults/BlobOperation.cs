namespace AzKv.Testing;

/// <summary>The <see cref="AzKv.Storage.IBlobStore"/> operations a <see cref="BlobFaults"/> rule can target.</summary>
public enum BlobOperation
{
    /// <summary><see cref="AzKv.Storage.IBlobStore.PutBlockBlobAsync"/>.</summary>
    PutBlockBlob,

    /// <summary><see cref="AzKv.Storage.IBlobStore.DownloadAsync"/>.</summary>
    Download,

    /// <summary><see cref="AzKv.Storage.IBlobStore.GetPropertiesAsync"/>.</summary>
    GetProperties,

    /// <summary><see cref="AzKv.Storage.IBlobStore.SetMetadataAsync"/>.</summary>
    SetMetadata,

    /// <summary><see cref="AzKv.Storage.IBlobStore.DeleteAsync"/>.</summary>
    Delete,

    /// <summary><see cref="AzKv.Storage.IBlobStore.ListAsync"/> (the blob name a rule sees is the list prefix).</summary>
    List,

    /// <summary><see cref="AzKv.Storage.IBlobStore.CreateAppendBlobAsync"/>.</summary>
    CreateAppendBlob,

    /// <summary><see cref="AzKv.Storage.IBlobStore.AppendBlockAsync"/>.</summary>
    AppendBlock,

    /// <summary><see cref="AzKv.Storage.IBlobStore.SealAsync"/>.</summary>
    Seal,

    /// <summary><see cref="AzKv.Storage.IBlobStore.AcquireLeaseAsync"/>.</summary>
    AcquireLease,

    /// <summary><see cref="AzKv.Storage.IBlobStore.RenewLeaseAsync"/>.</summary>
    RenewLease,

    /// <summary><see cref="AzKv.Storage.IBlobStore.ChangeLeaseAsync"/>.</summary>
    ChangeLease,

    /// <summary><see cref="AzKv.Storage.IBlobStore.ReleaseLeaseAsync"/>.</summary>
    ReleaseLease,

    /// <summary><see cref="AzKv.Storage.IBlobStore.BreakLeaseAsync"/>.</summary>
    BreakLease,

    /// <summary><see cref="AzKv.Storage.IBlobStore.CreateContainerIfNotExistsAsync"/> (no blob name).</summary>
    CreateContainer,
}
