using Akka.Actor;
using FleetSim.DeviceActors.Files;
using FleetSim.Protocol;

namespace FleetSim.DeviceActors;

/// <summary>Periodic file uploads over HTTPS (storage info, blob PUT, notification), one at a time per device.</summary>
public sealed partial class DeviceActor
{
    private bool _uploading;
    private long _uploads;
    private HttpClient? _ownHttp;

    private void DisposeUploadClient()
    {
        _ownHttp?.Dispose();
        _ownHttp = null;
    }

    private void StartUpload()
    {
        var upload = _options.FileUpload!;
        if (_uploading)
        {
            _metrics.ErrorBecause("uploadStillRunning").Increment();
            return;
        }

        // X.509 devices authenticate their HTTPS by TLS client authentication (no Authorization header), so each needs
        // a client of its own, made on the first upload (devices that never upload pay nothing) and disposed in PostStop.
        var http = _group.Http;
        string? authorization = null;
        if (_identity.ClientCertificate is { } certificate)
            http = _ownHttp ??= _group.CreateHttpClient(certificate);
        else if (_identity.SymmetricKey is { } key)
            authorization = SasToken.Create($"{_options.HostName}/devices/{_identity.DeviceId}", key, _options.Time.GetUtcNow() + _options.SasTtl);
        else if (_userToken is not null)
            authorization = _userToken;
        else
        {
            _metrics.FileUpload.RecordFailure("noCredentials");
            return;
        }

        _uploading = true;
        var start = _options.Time.GetTimestamp();
        var blobName = $"{upload.BlobNamePrefix}-{_identity.DeviceId}-{++_uploads}.bin";
        var target = Transport.ConnectionTarget.For(_options, _identity); // the owning partition's HTTPS when the hub is partitioned
        var hub = new Uri($"https://{target.UploadHost}:{target.HttpsPort}/");
        FileUploader.UploadAsync(http, hub, _identity.DeviceId, authorization, blobName, _group.UploadBody)
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
