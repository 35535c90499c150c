using Akka.Actor;
using FleetSim.DeviceActors.Files;
using FleetSim.Protocol;

namespace FleetSim.DeviceActors;

/// <summary>Periodic file uploads over HTTPS (storage info, blob PUT, notification), one at a time per device.</summary>
public sealed partial class DeviceActor
{
    private bool _uploading;
    private long _uploads;

    private void StartUpload()
    {
        var upload = _options.FileUpload!;
        if (_uploading)
        {
            _metrics.ErrorBecause("uploadStillRunning").Increment();
            return;
        }

        string authorization;
        if (_identity.SymmetricKey is { } key)
            authorization = SasToken.Create($"{_options.HostName}/devices/{_identity.DeviceId}", key, _options.Time.GetUtcNow() + _options.SasTtl);
        else if (_userToken is not null)
            authorization = _userToken;
        else
        {
            _metrics.FileUpload.RecordFailure("x509NotSupported"); // the HTTPS client is shared per group, without client certificates
            return;
        }

        _uploading = true;
        var start = _options.Time.GetTimestamp();
        var blobName = $"{upload.BlobNamePrefix}-{_identity.DeviceId}-{++_uploads}.bin";
        var hub = new Uri($"https://{_options.HostName}:{upload.HttpsPort}/");
        FileUploader.UploadAsync(_group.Http, hub, _identity.DeviceId, authorization, blobName, _group.UploadBody)
            .PipeTo(Self, success: error => new UploadDone(start, error),
                failure: e => new UploadDone(start, FailureKinds.FromException(e).Label()));
    }

    private void OnUploadDone(UploadDone done)
    {
        _uploading = false;
        if (done.Error is null)
            _metrics.FileUpload.RecordOk(_options.Time.GetElapsedTime(done.StartTimestamp));
        else
            _metrics.FileUpload.RecordFailure(done.Error);
    }
}
