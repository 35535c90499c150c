using Akka.Actor;
using FleetSim.DeviceActors.Telemetry;

namespace FleetSim.DeviceActors.Fleet;

/// <summary>
/// Device-by-device control for a scenario runner that paces the fleet itself (load phases): groups registered once,
/// single devices started at the moment the schedule asked for them and stopped again on a ramp-down (a stopped
/// device keeps its actor, so its telemetry sequence continues when it is started again), and behaviour changes
/// (telemetry rate, pause) broadcast to the devices, including those started later.
/// </summary>
public sealed partial class FleetSupervisor
{
    private readonly Dictionary<int, DeviceGroup> _registered = [];
    private readonly Dictionary<int, TimeSpan> _intervals = [];
    private readonly Dictionary<string, (IActorRef Device, int Group)> _devices = new(StringComparer.Ordinal);
    private bool _paused;

    /// <summary>Build the shared part of a device group once; later <see cref="StartDevice"/> messages name it by id.</summary>
    public sealed record RegisterGroup(int GroupId, DeviceOptions Options);

    /// <summary>Start (or restart after <see cref="StopDevice"/>) one device; it was due at <paramref name="IntendedTimestamp"/>.</summary>
    public sealed record StartDevice(int GroupId, DeviceIdentity Identity, long IntendedTimestamp);

    /// <summary>Stop one device cleanly (ramp-down).</summary>
    public sealed record StopDevice(string DeviceId);

    /// <summary>Change the telemetry interval of every device of a group, now and for devices started later.</summary>
    public sealed record SetTelemetryInterval(int GroupId, TimeSpan Interval);

    /// <summary>Pause or resume telemetry, reported updates and uploads of every device (pause phases).</summary>
    public sealed record SetPaused(bool Paused);

    private void ReceiveScenarioControl()
    {
        Receive<RegisterGroup>(OnRegisterGroup);
        Receive<StartDevice>(OnStartDevice);
        Receive<StopDevice>(s =>
        {
            if (_devices.TryGetValue(s.DeviceId, out var d))
                d.Device.Tell(DeviceActor.Stop.Instance);
        });
        Receive<SetTelemetryInterval>(s =>
        {
            _intervals[s.GroupId] = s.Interval;
            var message = new DeviceActor.SetTelemetryInterval(s.Interval);
            foreach (var (device, group) in _devices.Values)
            {
                if (group == s.GroupId)
                    device.Tell(message);
            }
        });
        Receive<SetPaused>(s =>
        {
            _paused = s.Paused;
            var message = new DeviceActor.SetPaused(s.Paused);
            foreach (var (device, _) in _devices.Values)
                device.Tell(message);
        });
    }

    private void OnRegisterGroup(RegisterGroup register)
    {
        var errors = register.Options.Validate();
        if (errors.Count > 0)
        {
            Sender.Tell(new StartRejected(errors));
            return;
        }

        var group = new DeviceGroup(register.Options, _metrics, _transports);
        _groups.Add(group);
        _registered[register.GroupId] = group;
    }

    private void OnStartDevice(StartDevice start)
    {
        if (_stopping || !_registered.TryGetValue(start.GroupId, out var group))
        {
            _notStarted++;
            return;
        }

        if (!_devices.TryGetValue(start.Identity.DeviceId, out var entry))
        {
            var device = Context.ActorOf(DeviceActor.Props(start.Identity, group).WithDispatcher(SchedulerThreadDispatcher.For(Context.System)), Uri.EscapeDataString(start.Identity.DeviceId));
            Context.Watch(device);
            _created++;
            entry = (device, start.GroupId);
            _devices[start.Identity.DeviceId] = entry;
            if (_intervals.TryGetValue(start.GroupId, out var interval))
                device.Tell(new DeviceActor.SetTelemetryInterval(interval));
            if (_paused)
                device.Tell(new DeviceActor.SetPaused(true));
        }

        _running.Add(entry.Device);
        entry.Device.Tell(new DeviceActor.Start(start.IntendedTimestamp));
    }

    private void ForgetDevice(IActorRef device)
    {
        foreach (var (id, entry) in _devices)
        {
            if (entry.Device.Equals(device))
            {
                _devices.Remove(id);
                return;
            }
        }
    }
}
