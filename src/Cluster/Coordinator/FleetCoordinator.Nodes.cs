using System.Security.Cryptography.X509Certificates;
using Akka.Actor;
using Akka.Cluster;
using Akka.Event;
using FleetSim.Cluster.Protocol;
using FleetSim.Cluster.Worker;
using FleetSim.Reporting;

namespace FleetSim.Cluster.Coordinator;

/// <summary>Membership, the runner's commands, the nodes' reports, and node loss.</summary>
public sealed partial class FleetCoordinator
{
    private RunPlan Plan => _plan with { Coordinator = Self };

    // ---- Membership: a worker that is up gets the plan until it confirms ----

    private void ReceiveMembership()
    {
        Receive<ClusterEvent.MemberUp>(up =>
        {
            if (!up.Member.HasRole(DeviceShards.Role) || _nodes.ContainsKey(up.Member.Address))
                return;
            _nodes[up.Member.Address] = new NodeState(NodeName(up.Member.Address));
            SendPlan(up.Member.Address);
            Timers.StartPeriodicTimer("plan-" + up.Member.Address, new ResendPlan(up.Member.Address), TimeSpan.FromSeconds(1));
        });
        Receive<ResendPlan>(r =>
        {
            if (_nodes.TryGetValue(r.Node, out var node) && node.Actor is null && !node.Lost)
                SendPlan(r.Node);
            else
                Timers.Cancel("plan-" + r.Node);
        });
        Receive<ClusterEvent.UnreachableMember>(u =>
        {
            if (_nodes.TryGetValue(u.Member.Address, out var node))
                node.UnreachableSince ??= Now;
        });
        Receive<ClusterEvent.MemberRemoved>(r => NodeGone(r.Member.Address));
        Receive<ClusterEvent.IMemberEvent>(_ => { });
    }

    private void SendPlan(Address address) =>
        Context.ActorSelection(new RootActorPath(address) / "user" / WorkerNode.Name).Tell(Plan);

    // ---- The runner's decisions ----

    private void ReceiveDriver()
    {
        Receive<DriverStart>(s =>
        {
            _started = true;
            _active[s.Group][s.Index] = true;
            _fleet.Groups[s.Group].Connected.Connected(s.Index); // service-side load targets devices the run started
            _region.Tell(Start(s.Group, s.Index, s.DueAt, resumeAfter: 0, recovering: false));
        });
        Receive<DriverStop>(s =>
        {
            _active[s.Group][s.Index] = false;
            _fleet.Groups[s.Group].Connected.Disconnected(s.Index);
            _region.Tell(new StopDevice(_fleet.Groups[s.Group].DeviceId(s.Index)));
        });
        Receive<DriverInterval>(s =>
        {
            _intervals[s.Group] = s.Interval;
            Broadcast(new SetTelemetryInterval(s.Group, s.Interval));
        });
        Receive<DriverPaused>(s =>
        {
            _paused = s.Paused;
            Broadcast(new SetPaused(s.Paused));
        });
        Receive<DriverStopAll>(s =>
        {
            _stopping = true;
            _stopRequester = s.WhenStopped;
            foreach (var (address, node) in _nodes)
            {
                if (node.Actor is null || node.Lost || node.Stopped)
                    continue;
                _awaitingStop.Add(address);
                node.Actor.Tell(new StopAllDevices(s.Deadline));
            }

            CheckStopped();
        });
        Receive<WaitForNodes>(w =>
        {
            _waiters.Add((w.Count, Sender));
            AnswerWaiters();
        });
        Receive<GetNodeEvents>(_ => Sender.Tell(new NodeEvents(BuildEvents())));
    }

    private StartDevice Start(int group, int index, DateTimeOffset dueAt, long resumeAfter, bool recovering)
    {
        var plan = _fleet.Groups[group];
        var id = plan.DeviceId(index);
        var key = plan.Credentials.Keys?[index];
        var certificate = plan.Credentials.Certificates?[index] is { } c ? c.Export(X509ContentType.Pkcs12) : null;
        return new StartDevice(id, group, index, key, certificate, dueAt, resumeAfter, recovering);
    }

    private void Broadcast(object message)
    {
        foreach (var node in _nodes.Values)
        {
            if (node.Actor is not null && !node.Lost)
                node.Actor.Tell(message);
        }
    }

    // ---- What the nodes say ----

    private void ReceiveNodes()
    {
        Receive<NodeJoined>(j =>
        {
            var address = j.NodeActor.Path.Address;
            if (!_nodes.TryGetValue(address, out var node) || node.Lost || node.Actor is not null)
                return;
            node.Actor = j.NodeActor;
            Timers.Cancel("plan-" + address);
            _log.Info("worker {0} joined ({1} ready)", node.Name, ReadyCount());
            if (_started)
            {
                // A node joining mid-run gets the behaviour in force and takes a share of the shards from now on.
                for (var g = 0; g < _intervals.Length; g++)
                {
                    if (_intervals[g] is { } interval && interval != _fleet.Groups[g].Options.Telemetry?.Interval)
                        j.NodeActor.Tell(new SetTelemetryInterval(g, interval));
                }

                if (_paused)
                    j.NodeActor.Tell(new SetPaused(true));
                _joins.Add(new NodeEvent(Seconds(Now), NodeEventKinds.Joined, node.Name, 0, 0, null, null, 0, 0,
                    $"node {node.Name} joined during the run and took a share of the shards from then on"));
            }

            AnswerWaiters();
        });
        Receive<NodePlanRejected>(r =>
        {
            _log.Error("worker {0} rejected the run plan: {1}", r.Node, string.Join("; ", r.Errors));
            foreach (var (_, requester) in _waiters)
                requester.Tell(new NodesFailed($"worker {r.Node} could not use the run plan: {string.Join("; ", r.Errors)}"));
            _waiters.Clear();
        });
        Receive<Protocol.NodeReport>(r =>
        {
            if (!_nodes.TryGetValue(Sender.Path.Address, out var node) || node.Lost)
                return;
            node.LastReport = Now;
            node.UnreachableSince = null;
            node.Shards = r.Shards;
            node.Sent = r.Metrics.Counters.GetValueOrDefault(FleetSim.Metrics.Counters.TelemetrySent);
            node.Acked = r.Metrics.Counters.GetValueOrDefault(FleetSim.Metrics.Counters.TelemetryAcked);
            _merger.Absorb(node.Name, r.Metrics, new FleetSim.Metrics.NodeProcessSample(r.DevicesHosted, r.CpuPermille, r.RssBytes));
            foreach (var recovered in r.Recovered)
            {
                foreach (var loss in _losses)
                    loss.Recovered.TryAdd(recovered.DeviceId, recovered.ConnectedAt);
            }
        });
        Receive<NodeStopped>(s =>
        {
            var address = Sender.Path.Address;
            if (_nodes.TryGetValue(address, out var node))
                node.Stopped = true;
            if (s.TimedOut)
                _log.Warning("worker {0}: {1} devices did not stop in time", s.Node, s.StillRunning);
            _awaitingStop.Remove(address);
            CheckStopped();
        });
        Receive<DeviceHandedOff>(h =>
        {
            // The shard moved (rebalancing): start the device again; the region routes it to the shard's new home.
            if (!_stopping && _active[h.Group][h.Index])
                _region.Tell(Start(h.Group, h.Index, Now, h.LastSequence, recovering: false));
        });
        Receive<RestartDue>(r => RestartLost(r.Loss));
        Receive<RestartPositions>(p =>
        {
            var loss = _losses[p.Loss];
            loss.Positions = p.Positions;
            SendRestarts(loss);
        });
    }

    private int ReadyCount() => _nodes.Values.Count(static n => n.Actor is not null && !n.Lost);

    private void AnswerWaiters()
    {
        var ready = ReadyCount();
        for (var i = _waiters.Count - 1; i >= 0; i--)
        {
            if (ready < _waiters[i].Count)
                continue;
            _waiters[i].Requester.Tell(new NodesReady([.. _nodes.Values.Where(static n => n.Actor is not null && !n.Lost).Select(static n => n.Name)]));
            _waiters.RemoveAt(i);
        }
    }

    private void CheckStopped()
    {
        if (!_stopping || _awaitingStop.Count > 0 || _stopRequester is null)
            return;
        _stopRequester.Tell(new Scenarios.Running.ScenarioRunner.FleetStopped());
        _stopRequester = null;
    }

    // ---- Node loss: re-start its devices from here on the surviving nodes ----

    private void NodeGone(Address address)
    {
        if (!_nodes.TryGetValue(address, out var node) || node.Lost)
            return;
        node.Lost = true;
        Timers.Cancel("plan-" + address);
        _merger.Forget(node.Name);
        if (_awaitingStop.Remove(address))
            CheckStopped();
        if (node.Actor is null || node.Stopped || _stopping)
            return;

        // Which devices did it hold? Every active device whose shard no surviving node reported (the lost node's shards,
        // and any allocated in the last second; a start that reaches a running device changes nothing).
        var alive = new HashSet<string>(StringComparer.Ordinal);
        var survivors = 0;
        foreach (var other in _nodes.Values)
        {
            if (other.Lost || other.Actor is null)
                continue;
            survivors++;
            alive.UnionWith(other.Shards);
        }

        var devices = new List<(int, int, string)>();
        for (var g = 0; g < _active.Length; g++)
        {
            for (var i = 0; i < _active[g].Length; i++)
            {
                if (!_active[g][i])
                    continue;
                var id = _fleet.Groups[g].DeviceId(i);
                if (!alive.Contains(DeviceShards.Instance.ShardOf(id)))
                    devices.Add((g, i, id));
            }
        }

        var lostAt = node.LastReport ?? node.UnreachableSince ?? Now;
        _losses.Add(new LossEvent(node.Name, lostAt, devices, Math.Max(0, node.Sent - node.Acked)) { Survivors = survivors });
        _log.Warning("worker {0} was lost with {1} active devices; starting them again on {2} surviving node(s)", node.Name, devices.Count, survivors);
        if (survivors == 0)
            Context.System.EventStream.Publish(new AllWorkersLost(
                $"every worker was lost (the last, {node.Name}, at {Seconds(lostAt):0} s into the run, with {devices.Count} active devices): no worker is left to run the devices"));
        Timers.StartSingleTimer("restart-" + (_losses.Count - 1), new RestartDue(_losses.Count - 1), RestartDelay);
    }

    private void RestartLost(int index)
    {
        var loss = _losses[index];
        if (_stopping || loss.Attempts >= RestartAttempts)
            return;
        var pending = Pending(loss);
        if (pending.Count == 0)
            return;
        if (loss.Attempts == 0)
        {
            // Where did the hub last see each device? Its numbering continues from there, so the hub counts no duplicates.
            var ids = pending.Select(static d => d.Id).ToList();
            _resumePositions(ids).PipeTo(Self,
                success: positions => new RestartPositions(index, positions),
                failure: _ => new RestartPositions(index, new Dictionary<string, long>()));
            return;
        }

        SendRestarts(loss);
    }

    private void SendRestarts(LossEvent loss)
    {
        var index = _losses.IndexOf(loss);
        loss.Attempts++;
        foreach (var (g, i, id) in Pending(loss))
            _region.Tell(Start(g, i, Now, loss.Positions.GetValueOrDefault(id), recovering: true));
        Timers.StartSingleTimer("restart-" + index, new RestartDue(index), RestartRetry);
    }

    private List<(int Group, int Index, string Id)> Pending(LossEvent loss) =>
        [.. loss.Devices.Where(d => _active[d.Group][d.Index] && !loss.Recovered.ContainsKey(d.Id))];

    private double Seconds(DateTimeOffset at) => Math.Round((at - _runStart).TotalSeconds, 3);

    /// <summary>The node events for the report: joins as they happened, losses with their outage and what was not sent.</summary>
    private List<NodeEvent> BuildEvents()
    {
        var events = new List<NodeEvent>(_joins);
        foreach (var loss in _losses)
        {
            var outages = new List<double>();
            var notSent = 0L;
            foreach (var (g, _, id) in loss.Devices)
            {
                var back = loss.Recovered.TryGetValue(id, out var at) ? at : Now;
                var outage = Math.Max(0, (back - loss.LostAt).TotalSeconds);
                if (loss.Recovered.ContainsKey(id))
                    outages.Add(outage);
                if (_intervals[g] is { TotalSeconds: > 0 } interval)
                    notSent += (long)Math.Floor(outage / interval.TotalSeconds);
            }

            outages.Sort();
            double? median = outages.Count == 0 ? null : Math.Round(outages[outages.Count / 2], 3);
            double? max = outages.Count == 0 ? null : Math.Round(outages[^1], 3);
            var description = $"node {loss.Node} was lost (it left without stopping its devices); its {loss.Devices.Count} active devices were " +
                $"started again on {loss.Survivors} surviving node(s) and {loss.Recovered.Count} reconnected there";
            events.Add(new NodeEvent(Seconds(loss.LostAt), NodeEventKinds.Lost, loss.Node, loss.Devices.Count, loss.Recovered.Count, median, max,
                notSent, loss.Unacked, description));
        }

        return events;
    }
}
