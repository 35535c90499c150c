using Akka.Actor;
using Akka.Event;
using FleetSim.DeviceActors.Telemetry;
using FleetSim.DeviceActors.Transport;
using FleetSim.Protocol;

namespace FleetSim.DeviceActors;

/// <summary>Connecting, Subscribing and Backoff: establishing the connection (Running in DeviceActor.Running.cs, Renewing and Stopping in their own files).</summary>
public sealed partial class DeviceActor
{
    private int _generation;            // the live connection (0: none); results tagged otherwise are stale
    private int _attempt;               // retries since the last successful connect
    private long _connectIntendedTimestamp;
    private long _lostAtTimestamp;      // set while reconnecting after a loss (reconnect latency)
    private long _renewStartTimestamp;  // set while renewing the SAS token (sasRenewal latency)
    private bool _everConnected;
    private bool _tokenFetched;
    private string? _userToken;
    private bool _renewedAfterRefusal; // a refused token was replaced once since the last successful connect
    private DateTimeOffset _tokenExpiresAt = DateTimeOffset.MaxValue;
    private bool _connectSlotHeld;      // this device counts against ConnectSlots until subscribed or failed
    private ConnectSlots.Ticket? _connectSlotTicket; // waiting for a slot
    private long _connectQueuedTimestamp;

    private void BeginConnect()
    {
        if (!TakeConnectSlot())
            return;
        string? password = null;
        if (_identity.ClientCertificate is null)
        {
            if (_identity.SymmetricKey is { } key)
            {
                var expires = DateTimeOffset.FromUnixTimeSeconds((_options.Time.GetUtcNow() + _options.SasTtl).ToUnixTimeSeconds());
                // Every new token expires later than the last one (se has whole seconds): a hub that revoked the last
                // token, and every token expiring no later, accepts the renewal even within the same second.
                _tokenExpiresAt = _tokenExpiresAt != DateTimeOffset.MaxValue && expires <= _tokenExpiresAt ? _tokenExpiresAt.AddSeconds(1) : expires;
                password = SasToken.Create($"{_options.HostName}/devices/{_identity.DeviceId}", key, _tokenExpiresAt);
            }
            else if (_userToken is not null)
            {
                _tokenExpiresAt = SasToken.TryParse(_userToken, out var parsed, out _) ? parsed.ExpiresAt : DateTimeOffset.MaxValue;
                if (!_tokenFetched && _options.SasTokenProvider is not null
                    && _tokenExpiresAt - _options.SasRenewalMargin <= _options.Time.GetUtcNow())
                {
                    Transition(DeviceState.Connecting, Connecting);
                    FetchToken();
                    return;
                }

                password = _userToken;
            }
            else
            {
                EnterStopped("noCredentials");
                return;
            }
        }

        _tokenFetched = false;
        Transition(DeviceState.Connecting, Connecting);
        _metrics.ConnectAttempts.Increment();
        SafeConnect(_transport, password).PipeTo(Self, success: o => new ConnectDone(o), failure: e => new ConnectFailed(e));
    }

    /// <summary>
    /// True when the device may start its connect now (no limit, or a slot taken); false when it waits for a slot in
    /// <see cref="WaitingForConnectSlot"/>. Taken before the token is made: the token is part of the connect's CPU.
    /// </summary>
    private bool TakeConnectSlot()
    {
        if (_connectSlotHeld || _options.ConnectSlots is not { } slots)
            return true;
        var ticket = slots.TryEnter(Self);
        if (ticket is null)
        {
            _connectSlotHeld = true;
            return true;
        }

        _connectSlotTicket = ticket;
        _connectQueuedTimestamp = _options.Time.GetTimestamp();
        _metrics.ConnectQueued.Increment();
        Transition(DeviceState.Connecting, WaitingForConnectSlot);
        return false;
    }

    /// <summary>Queued behind the process's connects in flight: no operation timeout runs, nothing has been sent.</summary>
    private void WaitingForConnectSlot()
    {
        Receive<ConnectSlots.Granted>(g => ReferenceEquals(g.Ticket, _connectSlotTicket), _ =>
        {
            _connectSlotTicket = null;
            _connectSlotHeld = true;
            _metrics.ConnectQueued.Decrement();
            _metrics.ConnectQueue.RecordOk(_options.Time.GetElapsedTime(_connectQueuedTimestamp));
            BeginConnect();
        });
        Receive<Stop>(_ => EnterStopped("stopped", Sender));
        Background();
    }

    /// <summary>The connect is over (subscribed, failed or abandoned): give the slot back, or leave the queue.</summary>
    private void ReleaseConnectSlot()
    {
        if (_options.ConnectSlots is not { } slots)
            return;
        if (_connectSlotTicket is { } ticket)
        {
            _connectSlotTicket = null;
            _metrics.ConnectQueued.Decrement();
            if (!slots.Cancel(ticket)) // already granted: its Granted message is stale now, the slot goes back here
                slots.Leave();
        }

        if (_connectSlotHeld)
        {
            _connectSlotHeld = false;
            slots.Leave();
        }
    }

    private static Task<ConnectOutcome> SafeConnect(IDeviceTransport? transport, string? password)
    {
        try
        {
            return transport!.ConnectAsync(password);
        }
        catch (Exception e)
        {
            return Task.FromException<ConnectOutcome>(e);
        }
    }

    private void Connecting()
    {
        Receive<ConnectDone>(d =>
        {
            if (d.Outcome.Success)
                OnConnected(d.Outcome);
            else
                OnConnectFailed(d.Outcome.Failure, d.Outcome.Detail);
        });
        Receive<ConnectFailed>(f => OnConnectFailed(FailureKinds.FromException(f.Error), Describe(f.Error)));
        Receive<TokenReady>(t =>
        {
            _userToken = t.Token;
            _tokenFetched = true;
            BeginConnect();
        });
        Receive<TokenFailed>(f =>
        {
            _metrics.Connect.RecordFailure("tokenUnavailable");
            _debug?.Debug("device {0}: token provider failed: {1}", _identity.DeviceId, Describe(f.Error));
            EnterBackoff(FailureKind.Network);
        });
        // Events of the new connection may beat ConnectDone (its generation is not known yet): keep them for later.
        Receive<TransportMessage>(_ => Stash.Stash());
        Receive<TransportDisconnected>(_ => Stash.Stash());
        Receive<Stop>(_ => Stash.Stash());
        Background();
    }

    private void OnConnected(ConnectOutcome outcome)
    {
        _generation = outcome.Generation;
        _attempt = 0;
        _renewedAfterRefusal = false;
        _metrics.Connected.Increment();
        _group.GroupCounters?.Connected.Increment();
        var now = _options.Time.GetTimestamp();
        if (_lostAtTimestamp != 0)
            _metrics.Recovery.Reconnected(_identity.DeviceId, _options.Time.GetUtcNow());
        if (_renewStartTimestamp != 0)
            _metrics.SasRenewal.RecordOk(_options.Time.GetElapsedTime(_renewStartTimestamp, now));
        else if (_lostAtTimestamp != 0)
            _metrics.Reconnect.RecordOk(_options.Time.GetElapsedTime(_lostAtTimestamp, now));
        else if (!_everConnected)
            _metrics.Connect.RecordOk(_options.Time.GetElapsedTime(_connectIntendedTimestamp, now));
        _renewStartTimestamp = 0;
        _lostAtTimestamp = 0;
        _everConnected = true;
        ScheduleSasRenewal();

        // CleanSession=0: when the hub kept our session it kept the subscriptions too (the SDKs rely on that).
        if (_group.Subscriptions != Subscriptions.None && !outcome.SessionPresent)
            BeginSubscribing();
        else
            AfterSubscribed();
    }

    private void OnConnectFailed(FailureKind kind, string detail)
    {
        var label = kind.Label();
        _metrics.Connect.RecordFailure(label);
        _group.GroupCounters?.Errors.Increment();
        _debug?.Debug("device {0}: connect failed ({1}): {2}", _identity.DeviceId, label, detail);
        if (_options.Retry.ShouldRetry(kind))
        {
            EnterBackoff(kind);
            return;
        }

        // A hub that treats the current token as expired (revoked, or expired while disconnected) refuses it: like the
        // SDKs, ask the token provider for a new one once before giving up.
        if (kind == FailureKind.Unauthorized && _identity.SymmetricKey is null && _userToken is not null
            && _options.SasTokenProvider is not null && !_renewedAfterRefusal)
        {
            _renewedAfterRefusal = true;
            FetchToken();
            return;
        }

        if (kind == FailureKind.Unauthorized && _identity.SymmetricKey is null && _userToken is not null
            && _tokenExpiresAt <= _options.Time.GetUtcNow())
            label = "tokenExpired";
        EnterStopped(label);
    }

    private void EnterBackoff(FailureKind kind)
    {
        ReleaseConnectSlot();
        if (_options.Retry.Kind == RetryKind.None)
        {
            if (_options.AutoConnect)
                AwaitDemand();
            else
                EnterStopped(kind.Label());
            return;
        }

        var delay = _options.Retry.NextDelay(_attempt, kind, ref _random);
        _attempt++;
        _metrics.Retries.Increment();
        _metrics.RetryBecause(kind.Label()).Increment();
        _metrics.RetryWait.Add((long)delay.TotalMilliseconds);
        Timers.StartSingleTimer(RetryTimer, RetryDue.Instance, delay);
        Transition(DeviceState.Backoff, Backoff);
    }

    private void Backoff()
    {
        Receive<RetryDue>(_ => BeginConnect());
        Receive<Stop>(_ => EnterStopped("stopped", Sender));
        Background();
    }

    /// <summary>
    /// No retry, but auto_connect: stay disconnected until an operation is due, then connect for it. The behaviours run
    /// (as the application's loop keeps calling the client), so telemetry generated meanwhile is queued or dropped by the
    /// offline policy and sent once connected.
    /// </summary>
    private void AwaitDemand()
    {
        Transition(DeviceState.Backoff, AwaitingDemand);
        StartBehaviours();
    }

    private void AwaitingDemand()
    {
        Receive<TelemetryTick>(_ =>
        {
            OnTelemetryTick();
            ConnectOnDemand();
        });
        Receive<TelemetryWakeUp>(w =>
        {
            OnTelemetryWakeUp(w);
            ConnectOnDemand();
        });
        Receive<ReportTick>(_ => ConnectOnDemand());
        Receive<UploadTick>(_ => ConnectOnDemand());
        Receive<Stop>(_ => EnterStopped("stopped", Sender));
        Background();
    }

    private void ConnectOnDemand()
    {
        _metrics.AutoConnects.Increment();
        BeginConnect();
    }

    private void BeginSubscribing()
    {
        Transition(DeviceState.Subscribing, Subscribing);
        var generation = _generation;
        SafeCall(static (t, s) => t.SubscribeAsync(s), _transport, _group.Subscriptions)
            .PipeTo(Self, success: () => new SubscribeDone(generation), failure: e => new SubscribeFailed(generation, e));
    }

    private void Subscribing()
    {
        Receive<SubscribeDone>(d => d.Generation == _generation, _ => AfterSubscribed());
        Receive<SubscribeFailed>(f => f.Generation == _generation, f => DropConnection(FailureKind.Refused, "subscribeFailed"));
        Connected();
        Receive<Stop>(_ => Stash.Stash());
        Background();
    }

    private void AfterSubscribed()
    {
        ReleaseConnectSlot();
        // Only now can the device answer a method or take a C2D message: before its SUBACK the hub says it is offline.
        _options.ConnectionObserver?.Connected(_identity.Index);
        if (_options.Twin is { EnsureDesiredProperties: true })
            BeginTwinSync();
        else
            EnterRunning();
    }
}
