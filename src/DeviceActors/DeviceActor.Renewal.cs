using Akka.Actor;
using Akka.Event;
using FleetSim.DeviceActors.Telemetry;
using FleetSim.DeviceActors.Transport;
using FleetSim.Protocol;

namespace FleetSim.DeviceActors;

/// <summary>Renewing: the SAS token is replaced before it expires by reconnecting with a new one (the session is kept).</summary>
public sealed partial class DeviceActor
{
    // ---- SAS renewal: disconnect and connect again with a new token, keeping the session ----

    private void ScheduleSasRenewal()
    {
        var renewable = _identity.ClientCertificate is null
            && (_identity.SymmetricKey is not null || (_userToken is not null && _options.SasTokenProvider is not null));
        if (!renewable || _tokenExpiresAt == DateTimeOffset.MaxValue)
            return;
        var due = _tokenExpiresAt - _options.SasRenewalMargin - _options.Time.GetUtcNow();
        Timers.StartSingleTimer(SasTimer, SasRenewDue.Instance, due > TimeSpan.FromSeconds(1) ? due : TimeSpan.FromSeconds(1));
    }

    private void OnSasRenewDue()
    {
        if (_identity.SymmetricKey is not null)
            BeginRenewal();
        else
            FetchToken();
    }

    private void FetchToken()
    {
        var provider = _options.SasTokenProvider!;
        var identity = _identity;
        Task<string> task;
        try
        {
            task = provider.GetTokenAsync(identity, CancellationToken.None);
        }
        catch (Exception e)
        {
            task = Task.FromException<string>(e);
        }

        task.PipeTo(Self, success: t => new TokenReady(t), failure: e => new TokenFailed(e));
    }

    private void BeginRenewal()
    {
        _renewStartTimestamp = _options.Time.GetTimestamp();
        Transition(DeviceState.Renewing, Renewing);
        if (_telemetry.InFlight == 0)
            FinishDrain();
        else
            Timers.StartSingleTimer(DrainTimer, DrainDeadline.Instance, _options.OperationTimeout);
    }

    private void Renewing()
    {
        Receive<DisconnectDone>(_ => BeginConnect());
        Receive<DrainDeadline>(_ => FinishDrain());
        Receive<Stop>(_ => Stash.Stash());
        Connected();
        Background();
    }

    /// <summary>In-flight telemetry is acknowledged (or the deadline passed): send DISCONNECT.</summary>
    private void FinishDrain()
    {
        if (_generation == 0)
            return;
        Timers.Cancel(DrainTimer);
        ReleaseConnection();
        SafeCall(static t => t.DisconnectAsync(), _transport)
            .PipeTo(Self, success: () => DisconnectDone.Instance, failure: _ => DisconnectDone.Instance);
    }
}
