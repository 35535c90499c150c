namespace FleetSim.DeviceActors;

/// <summary>File upload (placeholder until the HTTPS part lands).</summary>
public sealed partial class DeviceActor
{
    private void StartUpload()
    {
    }

    private void OnUploadDone(UploadDone done)
    {
    }
}
