namespace FleetSim.DeviceActors;

/// <summary>
/// The renewal hook for devices given a ready-made SAS token (the Python SDK's on_new_sastoken_required +
/// update_sastoken): called ahead of the current token's expiry; the device reconnects with the new token.
/// </summary>
public interface ISasTokenProvider
{
    Task<string> GetTokenAsync(DeviceIdentity identity, CancellationToken cancellationToken);
}
