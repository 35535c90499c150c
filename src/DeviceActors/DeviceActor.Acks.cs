using System.Buffers;
using Akka.Actor;
using FleetSim.DeviceActors.Telemetry;

namespace FleetSim.DeviceActors;

/// <summary>
/// Telemetry acknowledgements: a PUBACK (or a failed publish) frees its place in the in-flight window, a PUBACK overdue
/// past the operation timeout drops the connection, and an emptied window lets a renewal or a stop finish.
/// </summary>
public sealed partial class DeviceActor
{
    private void OnTelemetryAcked(TelemetryAcked ack)
    {
        // A late PUBACK of an old connection still proves delivery; a second PUBACK of a re-sent message finds nothing.
        if (!_telemetry.TryRemoveInFlight(ack.Sequence, out var item))
            return;
        _metrics.Telemetry.RecordOk(_options.Time.GetElapsedTime(item.IntendedTimestamp, ack.AckTimestamp));
        _metrics.Acked.Increment();
        _group.GroupCounters?.Acked.Increment();
        ArrayPool<byte>.Shared.Return(item.Buffer);
        AfterInFlightChanged();
    }

    private void OnTelemetryFailed(TelemetryFailed failed)
    {
        // On an old connection: the message stays in flight and is re-sent after the reconnect.
        // On the live one (PUBACK timeout, broken pipe): the connection is unusable, reconnect.
        if (failed.Generation != _generation || _generation == 0 || !_telemetry.MarkForResend(failed.Sequence, failed.Generation))
            return;
        var kind = FailureKinds.FromException(failed.Error);
        _metrics.Telemetry.RecordFailure(kind.Label());
        _group.GroupCounters?.Errors.Increment();
        if (_state == DeviceState.Stopping)
        {
            AfterInFlightChanged();
            return;
        }

        DropConnection(kind, "publishFailed");
    }

    /// <summary>
    /// MQTTnet waits for a PUBACK without a deadline, so a hub that stopped answering (a blackhole) would hold the
    /// window forever. As the SDKs do, a publish not acknowledged within the operation timeout fails and the device
    /// reconnects (the message is re-sent). One timer per device, armed for the oldest message in flight.
    /// </summary>
    private void OnPubAckCheck()
    {
        if (_state != DeviceState.Running || _generation == 0 || _telemetry.OldestPublished(_generation) is not { } oldest)
            return;
        var waited = _options.Time.GetElapsedTime(oldest);
        if (waited < _options.OperationTimeout)
        {
            Timers.StartSingleTimer(PubAckTimer, PubAckCheck.Instance, _options.OperationTimeout - waited);
            return;
        }

        _metrics.Telemetry.RecordFailure(FailureKind.Timeout.Label());
        _group.GroupCounters?.Errors.Increment();
        DropConnection(FailureKind.Timeout, "pubackTimeout");
    }

    private void AfterInFlightChanged()
    {
        switch (_state)
        {
            case DeviceState.Running:
                PumpTelemetry(resendFirst: false);
                break;
            case DeviceState.Renewing or DeviceState.Stopping when _telemetry.InFlight == 0:
                FinishDrain();
                break;
        }
    }
}
