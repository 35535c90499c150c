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
        Receive<Start>(_ => Stash.Stash()); // started again before the stop completed: handled once Stopped
        Background();
    }

    // ---- Telemetry a stopped device has not delivered ----

    /// <summary>
    /// Stopped on request (a ramp-down, churn, the end of the run), a device keeps what it has not delivered, in flight
    /// (its PUBACK did not come: the drain deadline passed, the connection was lost during the drain, or the device was
    /// stopped while reconnecting) or waiting in its queue. Started again, it re-sends them first with the same sequence
    /// numbers, as after a reconnect, so the hub sees no gap; a late PUBACK still counts. Messages held in flight are in
    /// telemetry.unackedAtStop until the device starts again (at the end of a run: sent = acked + unackedAtStop).
    /// Stopped for good (refused credentials, an untrusted hub), nothing will deliver them: those in flight stay in
    /// unackedAtStop and those that waited are counted as dropped.
    /// </summary>
    private void KeepOrDiscardTelemetry(string reason)
    {
        if (reason == "stopped")
        {
            _telemetry.MarkAllForResend();
            _metrics.Unacked.Add(_telemetry.InFlight);
            return;
        }

        var inFlight = _telemetry.Clear(out var queued);
        _metrics.Unacked.Add(inFlight);
        if (queued > 0)
        {
            _metrics.Dropped.Add(queued);
            _group.GroupCounters?.Dropped.Add(queued);
        }
    }

    /// <summary>A stopped device starts again: what it held in flight goes out again after the connect (off unackedAtStop).</summary>
    private void ResumeHeldTelemetry() => _metrics.Unacked.Add(-_telemetry.InFlight);

    /// <summary>A PUBACK that arrived after the stop still proves delivery: counted, and the message is not re-sent.</summary>
    private void OnAckWhileStopped(TelemetryAcked ack)
    {
        var held = _telemetry.InFlight;
        OnTelemetryAcked(ack);
        _metrics.Unacked.Add(_telemetry.InFlight - held);
    }
}
