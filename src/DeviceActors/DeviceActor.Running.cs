using Akka.Actor;
using Akka.Event;
using FleetSim.DeviceActors.Telemetry;
using FleetSim.DeviceActors.Transport;
using FleetSim.Protocol;

namespace FleetSim.DeviceActors;

/// <summary>Running: the live connection, and what happens when it is lost or dropped (establishing it is in DeviceActor.Connection.cs).</summary>
public sealed partial class DeviceActor
{
    private void EnterRunning()
    {
        Transition(DeviceState.Running, Running);
        StartBehaviours();
        PumpTelemetry(resendFirst: true);
    }

    private void Running()
    {
        Receive<SasRenewDue>(_ => OnSasRenewDue());
        Receive<TokenReady>(t =>
        {
            _userToken = t.Token;
            BeginRenewal();
        });
        Receive<TokenFailed>(f =>
        {
            // Python: a failed re-authorization is retried every 10 s while the current token lasts.
            _metrics.ErrorBecause("tokenUnavailable").Increment();
            Timers.StartSingleTimer(SasTimer, SasRenewDue.Instance, TimeSpan.FromSeconds(10));
        });
        Receive<ReportTick>(_ => SendReportedPatch());
        Receive<UploadTick>(_ => StartUpload());
        Receive<Stop>(_ => BeginStopping(Sender));
        Connected();
        Background();
    }

    /// <summary>Handlers every state with a live connection shares.</summary>
    private void Connected()
    {
        Receive<TransportMessage>(m => m.Generation == _generation, OnTransportMessage);
        Receive<TransportDisconnected>(d => d.Generation == _generation, OnConnectionLost);
        Receive<MethodReplyDue>(r => r.Generation == _generation, SendMethodReply);
        Receive<C2dAckDue>(a => a.Generation == _generation, a => Acknowledge(a.AckHandle));
    }

    /// <summary>Handlers every living state shares; the catch-all for stale results comes last.</summary>
    private void Background()
    {
        Receive<TelemetryTick>(_ => OnTelemetryTick());
        Receive<TelemetryWakeUp>(OnTelemetryWakeUp);
        ReceiveBehaviourControl();
        Receive<TelemetryAcked>(OnTelemetryAcked);
        Receive<TelemetryFailed>(OnTelemetryFailed);
        Receive<PubAckCheck>(_ => OnPubAckCheck());
        Receive<TwinTimeout>(OnTwinTimeout);
        Receive<UploadDone>(OnUploadDone);
        Receive<GetStatus>(_ => ReplyStatus());
        ReceiveAny(IgnoreStale);
    }

    private void OnConnectionLost(TransportDisconnected lost)
    {
        ReleaseConnection();
        var label = lost.Reason.Label();
        _metrics.ConnectionLost.Increment();
        _metrics.LostBecause(label).Increment();
        _debug?.Debug("device {0}: connection lost ({1}): {2}", _identity.DeviceId, label, lost.Detail);
        _renewStartTimestamp = 0;
        if (_lostAtTimestamp == 0) // one outage per loss: the next reconnect ends it
            _metrics.Recovery.Lost(_identity.DeviceId, _options.Time.GetUtcNow(), label);
        _lostAtTimestamp = _options.Time.GetTimestamp();
        EnterBackoff(lost.Reason);
    }

    /// <summary>An operation failed on a live connection: close it and reconnect (in-flight telemetry is re-sent).</summary>
    private void DropConnection(FailureKind kind, string why)
    {
        var generation = _generation;
        if (generation == 0)
            return;
        _metrics.ErrorBecause(why).Increment();
        ObserveQuietly(SafeCall(static t => t.DisconnectAsync(), _transport));
        OnConnectionLost(new TransportDisconnected(generation, kind, why));
    }

    private void ReleaseConnection()
    {
        if (_generation == 0)
            return;
        _generation = 0;
        _metrics.Connected.Decrement();
        _group.GroupCounters?.Connected.Decrement();
        _options.ConnectionObserver?.Disconnected(_identity.Index);
        Timers.Cancel(SasTimer);
        Timers.Cancel(TwinGetTimer);
        FailPendingTwinRequests("disconnected");
    }
}
