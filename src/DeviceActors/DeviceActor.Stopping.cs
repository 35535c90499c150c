using Akka.Actor;
using Akka.Event;
using FleetSim.DeviceActors.Telemetry;
using FleetSim.DeviceActors.Transport;
using FleetSim.Protocol;

namespace FleetSim.DeviceActors;

/// <summary>Stopping: no new telemetry, in-flight messages get their PUBACKs (bounded), then DISCONNECT.</summary>
public sealed partial class DeviceActor
{
    // ---- Stopping: no new telemetry, wait for PUBACKs (bounded), DISCONNECT ----

    private void BeginStopping(IActorRef requester)
    {
        _stopRequester = requester;
        StopTelemetrySchedule();
        Timers.Cancel(ReportTimer);
        Timers.Cancel(UploadTimer);
        Timers.Cancel(SasTimer);
        if (_generation == 0)
        {
            EnterStopped("stopped", requester);
            return;
        }

        if (ChecksTwin && !_twinChecked)
            BeginTwinCheck(); // the convergence check first, on the live connection
        else
            ContinueStopping();
    }

    private void ContinueStopping()
    {
        if (_generation == 0)
        {
            EnterStopped("stopped");
            return;
        }

        Transition(DeviceState.Stopping, Stopping);
        if (_telemetry.InFlight == 0)
            FinishDrain();
        else
            Timers.StartSingleTimer(DrainTimer, DrainDeadline.Instance, _options.StopDrainTimeout);
    }

    private void Stopping()
    {
        Receive<DisconnectDone>(_ => EnterStopped("stopped"));
        Receive<DrainDeadline>(_ => FinishDrain());
        Receive<TransportDisconnected>(d => d.Generation == _generation, _ =>
        {
            ReleaseConnection();
            EnterStopped("stopped");
        });
        Receive<Stop>(_ => _stopRequester = Sender);
        Background();
    }
}
