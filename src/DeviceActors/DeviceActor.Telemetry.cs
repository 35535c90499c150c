using System.Buffers;
using Akka.Actor;
using Akka.Event;
using FleetSim.DeviceActors.Telemetry;
using FleetSim.Protocol;

namespace FleetSim.DeviceActors;

/// <summary>
/// Telemetry: QoS 1 at a fixed interval, each message with fleetsim-seq (1, 2, 3, … never reused) and
/// fleetsim-sent; latency from the intended send time to PUBACK; a bounded in-flight window; a bounded queue
/// while it cannot send; messages in flight at a disconnect re-sent after the reconnect with the same number.
/// </summary>
public sealed partial class DeviceActor
{
    private static readonly Action<Task, object?> PublishContinuation = static (task, state) =>
    {
        // The PUBACK time is taken here, where the transport completes, not after a hop through the mailbox. This thread
        // (a thread-pool worker that MQTTnet woke for the PUBACK) then runs the device's mailbox itself when the device
        // is on SchedulerThreadDispatcher and idle, instead of waking another worker for it (InlineRun).
        var p = (PendingPublish)state!;
        object message = task.IsCompletedSuccessfully
            ? new TelemetryAcked(p.Generation, p.Sequence, p.Time.GetTimestamp())
            : new TelemetryFailed(p.Generation, p.Sequence, task.Exception?.GetBaseException() ?? new TaskCanceledException());
        var inline = InlineRun.Allow();
        try
        {
            p.Device.Tell(message);
        }
        finally
        {
            if (inline)
                InlineRun.Disallow();
        }
    };

    private long _lastSequence;
    private long _nextTelemetryTimestamp;
    private long _intervalTimestampTicks;
    private bool _behavioursStarted;
    private bool _paused;
    private TimeSpan? _intervalOverride;
    private bool _tooLargeReported;
    private TelemetryRegistration? _telemetrySchedule;

    private sealed record PendingPublish(IActorRef Device, int Generation, long Sequence, TimeProvider Time);

    /// <summary>Starts the periodic behaviours once, at the first Running; they keep their rhythm across reconnects.</summary>
    private void StartBehaviours()
    {
        if (_behavioursStarted)
            return;
        _behavioursStarted = true;
        if (_paused)
            return;
        if (_options.Telemetry is { } telemetry)
        {
            var jitter = telemetry.StartJitter > TimeSpan.Zero
                ? TimeSpan.FromTicks((long)(_random.NextDouble() * telemetry.StartJitter.Ticks))
                : TimeSpan.Zero;
            if (jitter > TimeSpan.Zero && _group.TelemetryScheduler is null)
                Timers.StartSingleTimer(TelemetryTimer, TelemetryStartDue.Instance, jitter);
            else
                StartTelemetrySchedule(_options.Time.GetTimestamp() + ToTimestampTicks(jitter)); // the first message at once (or after its jitter)
        }

        StartPeriodicBehaviours();
    }

    /// <summary>
    /// Messages are due at <paramref name="firstDue"/> and every interval after it. The group's precise scheduler (or,
    /// in virtual time, an Akka timer) wakes the device; the device's own schedule says which messages are due.
    /// </summary>
    private void StartTelemetrySchedule(long firstDue)
    {
        StopTelemetrySchedule();
        var interval = _intervalOverride ?? _options.Telemetry!.Interval;
        _intervalTimestampTicks = ToTimestampTicks(interval);
        _nextTelemetryTimestamp = firstDue;
        if (_group.TelemetryScheduler is { } scheduler)
        {
            _telemetrySchedule = scheduler.Schedule(Self, firstDue, _intervalTimestampTicks);
            return;
        }

        var delay = _options.Time.GetElapsedTime(_options.Time.GetTimestamp(), firstDue);
        if (delay <= TimeSpan.Zero)
        {
            Self.Tell(TelemetryTick.Instance);
            delay = interval;
        }

        Timers.StartPeriodicTimer(TelemetryTimer, TelemetryTick.Instance, delay, interval);
    }

    private void StopTelemetrySchedule()
    {
        Timers.Cancel(TelemetryTimer);
        _telemetrySchedule?.Cancel();
        _telemetrySchedule = null;
    }

    private long ToTimestampTicks(TimeSpan span) =>
        (long)((Int128)span.Ticks * _options.Time.TimestampFrequency / TimeSpan.TicksPerSecond);

    private void ReceiveBehaviourControl()
    {
        Receive<TelemetryStartDue>(_ =>
        {
            if (_behavioursStarted && !_paused)
                StartTelemetrySchedule(_options.Time.GetTimestamp());
        });
        Receive<SetTelemetryInterval>(s =>
        {
            _intervalOverride = s.Interval;
            if (_behavioursStarted && !_paused && _options.Telemetry is not null)
                StartTelemetrySchedule(_options.Time.GetTimestamp() + ToTimestampTicks(s.Interval)); // next message one new interval from now
        });
        Receive<SetPaused>(s =>
        {
            if (s.Paused == _paused)
                return;
            _paused = s.Paused;
            if (!_behavioursStarted)
                return;
            if (_paused)
            {
                StopTelemetrySchedule();
                Timers.Cancel(ReportTimer);
                Timers.Cancel(UploadTimer);
                return;
            }

            if (_options.Telemetry is { } telemetry)
                StartTelemetrySchedule(_options.Time.GetTimestamp() + ToTimestampTicks(_intervalOverride ?? telemetry.Interval));
            StartPeriodicBehaviours();
        });
    }

    private void StartPeriodicBehaviours()
    {
        if (_options.Twin?.ReportedInterval is { } report)
            Timers.StartPeriodicTimer(ReportTimer, ReportTick.Instance, report, report);
        if (_options.FileUpload is { } upload)
            Timers.StartPeriodicTimer(UploadTimer, UploadTick.Instance, upload.Interval, upload.Interval);
    }

    private void OnTelemetryWakeUp(TelemetryWakeUp wakeUp)
    {
        wakeUp.Registration.Taken(); // the scheduler may tell the next one now
        if (ReferenceEquals(wakeUp.Registration, _telemetrySchedule))
            OnTelemetryTick();
    }

    /// <summary>Makes every message whose intended time has come (more than one when the device fell behind).</summary>
    private void OnTelemetryTick()
    {
        var telemetry = _options.Telemetry;
        if (telemetry is null || _state is DeviceState.Stopping or DeviceState.Stopped)
            return;

        var now = _options.Time.GetTimestamp();
        var maxLag = telemetry.MaxSendLag is { } max ? ToTimestampTicks(max) : long.MaxValue;
        while (_nextTelemetryTimestamp <= now)
        {
            // The schedule, not the wake-up's arrival, is the intended send time (no coordinated omission).
            var intended = _nextTelemetryTimestamp;
            _nextTelemetryTimestamp += _intervalTimestampTicks;
            if (maxLag != long.MaxValue && IsGeneratorLimited(intended, maxLag))
            {
                _metrics.Skipped.Increment(); // the generator's limit: reported, not queued
                continue;
            }

            MakeTelemetry(telemetry, intended);
        }
    }

    /// <summary>
    /// Too late to make: more than the max send lag behind (measured now, not at the wake-up: making takes time), or a
    /// backlog message of a catch-up that could not go at once. A generator that is on time makes one message per
    /// wake-up, which waits in the queue when the hub holds the window (the hub's limit); only the generator's own
    /// backlog is skipped, so its shortfall is counted instead of queued.
    /// </summary>
    private bool IsGeneratorLimited(long intended, long maxLag)
    {
        if (_options.Time.GetTimestamp() - intended > maxLag)
            return true;
        var backlog = _nextTelemetryTimestamp <= _options.Time.GetTimestamp(); // a later message is due already
        return backlog && _state == DeviceState.Running && (_telemetry.WindowFull || _telemetry.Queued > 0);
    }

    private void MakeTelemetry(TelemetryOptions telemetry, long intended)
    {
        var canSendNow = _state == DeviceState.Running && !_telemetry.WindowFull && _telemetry.Queued == 0;
        if (!canSendNow && (_telemetry.QueueFull || (_state != DeviceState.Running && telemetry.OfflinePolicy == OfflinePolicy.Drop)))
        {
            _metrics.Dropped.Increment(); // never numbered: the hub sees no gap for a message that was never accepted
            _group.GroupCounters?.Dropped.Increment();
            return;
        }

        var buffer = ArrayPool<byte>.Shared.Rent(Math.Max(telemetry.Payload.MaxLength, 1));
        var sequence = _lastSequence + 1;
        var length = telemetry.Payload.Write(_identity.Index, sequence, buffer);
        var sentAt = _options.Time.GetUtcNow().ToUnixTimeMilliseconds();
        var size = length + _group.StaticPropertyBytes + Digits(sequence) + Digits(sentAt);
        string? dynamicSuffix = null;
        if (telemetry.DynamicProperties is { } dynamicProperties)
        {
            var properties = dynamicProperties.Render(_identity.Index, sequence);
            size += MessageLimits.MessageSize(0, properties);
            dynamicSuffix = properties.Count == 0 ? null : "&" + PropertyBag.Encode(properties);
        }
        if (size > MessageLimits.MaxMessageBytes)
        {
            ArrayPool<byte>.Shared.Return(buffer);
            RejectTooLarge(size, length);
            return;
        }

        _lastSequence = sequence;
        var item = new TelemetryItem
        {
            Sequence = sequence,
            IntendedTimestamp = intended,
            SentAtUnixMs = sentAt,
            Buffer = buffer,
            Length = length,
            DynamicSuffix = dynamicSuffix,
        };
        // The generator's own lag: intended time -> started here (handed to the transport now, or queued behind
        // the window or a lost connection, which is the hub's or the network's wait, not the generator's).
        _metrics.SendLag.RecordOk(_options.Time.GetElapsedTime(intended));
        if (canSendNow)
        {
            Publish(ref item);
            _telemetry.AddInFlight(item);
        }
        else
        {
            _telemetry.Enqueue(item);
            if (_state != DeviceState.Running)
                _metrics.QueuedOffline.Increment();
        }
    }

    private void RejectTooLarge(int size, int bodyLength)
    {
        _metrics.TooLarge.Increment();
        _metrics.Telemetry.RecordFailure("tooLarge");
        if (_tooLargeReported)
            return;
        _tooLargeReported = true; // once per device: a clear error, not a flood
        Context.GetLogger().Error(
            "device {0}: a telemetry message of {1} bytes (body {2}) exceeds IoT Hub's limit of {3} bytes " +
            "(body + property names and values); it was not sent. Make the payload smaller.",
            _identity.DeviceId, size, bodyLength, MessageLimits.MaxMessageBytes);
    }

    /// <summary>Sends what the window allows: first the messages a lost connection left unacknowledged, then the queue.</summary>
    private void PumpTelemetry(bool resendFirst)
    {
        if (_state != DeviceState.Running)
            return;
        if (resendFirst)
        {
            int index;
            while ((index = _telemetry.NextToResend(_generation)) >= 0)
                Publish(ref _telemetry.InFlightAt(index));
        }

        while (!_telemetry.WindowFull && _telemetry.Queued > 0)
        {
            var item = _telemetry.Dequeue();
            Publish(ref item);
            _telemetry.AddInFlight(item);
        }
    }

    private void Publish(ref TelemetryItem item)
    {
        // "sent" counts first sends only, fleet-wide and per group; a re-send after a reconnect is "resent".
        if (item.Published)
        {
            _metrics.Resent.Increment();
            _group.GroupCounters?.Resent.Increment();
        }
        else
        {
            _metrics.Sent.Increment();
            _group.GroupCounters?.Sent.Increment();
        }

        item.Published = true;
        item.Generation = _generation;
        item.PublishedTimestamp = _options.Time.GetTimestamp();
        if (!Timers.IsTimerActive(PubAckTimer))
            Timers.StartSingleTimer(PubAckTimer, PubAckCheck.Instance, _options.OperationTimeout);

        var topic = BuildTopic(item.Sequence, item.SentAtUnixMs, item.DynamicSuffix);
        Task task;
        try
        {
            task = _transport!.PublishAsync(topic, item.Body, atLeastOnce: true);
        }
        catch (Exception e)
        {
            task = Task.FromException(e);
        }

        task.ContinueWith(PublishContinuation, new PendingPublish(Self, _generation, item.Sequence, _options.Time), CancellationToken.None,
            TaskContinuationOptions.ExecuteSynchronously, TaskScheduler.Default);
    }

    /// <summary>devices/{id}/messages/events/fleetsim-seq={n}&amp;fleetsim-sent={ms}{static suffix}: one string per message.</summary>
    private string BuildTopic(long sequence, long sentAt, string? dynamicSuffix)
    {
        var prefix = _topics.TelemetryPrefix;
        var suffix = dynamicSuffix is null ? _group.TelemetrySuffix : _group.TelemetrySuffix + dynamicSuffix;
        var length = prefix.Length + SeqKey.Length + Digits(sequence) + SentKey.Length + Digits(sentAt) + suffix.Length;
        return string.Create(length, (prefix, sequence, sentAt, suffix), static (span, s) =>
        {
            s.prefix.CopyTo(span);
            var at = s.prefix.Length;
            SeqKey.CopyTo(span[at..]);
            at += SeqKey.Length;
            s.sequence.TryFormat(span[at..], out var n, provider: System.Globalization.CultureInfo.InvariantCulture);
            at += n;
            SentKey.CopyTo(span[at..]);
            at += SentKey.Length;
            s.sentAt.TryFormat(span[at..], out n, provider: System.Globalization.CultureInfo.InvariantCulture);
            at += n;
            s.suffix.CopyTo(span[at..]);
        });
    }

    private const string SeqKey = FleetSimProperties.Sequence + "=";
    private const string SentKey = "&" + FleetSimProperties.SentAt + "=";

    private static int Digits(long value)
    {
        var digits = 1;
        for (var v = value; v >= 10; v /= 10)
            digits++;
        return digits;
    }
}
