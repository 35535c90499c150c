using System.CommandLine;

namespace FleetSim.Simulator.Commands;

/// <summary><c>fleetsim validate SCENARIO.yaml</c>: every error at once, with file:line:column and a hint.</summary>
public static class ValidateCommand
{
    public static Command Create()
    {
        var scenarioArg = new Argument<FileInfo>("scenario") { Description = "The scenario file (YAML)" };
        var setOption = new Option<string[]>("--set") { Description = "Apply an override before validating: --set path=value (repeatable)" };
        var durationOption = new Option<string?>("--duration") { Description = "Override the scenario's duration, as run does" };
        var scaleOption = new Option<double?>("--scale") { Description = "Scale device counts and rates, as run does" };
        var nodesOption = new Option<string?>("--nodes") { Description = "Check a worker count for run --nodes (N or auto)" };
        var command = new Command("validate", "Check a scenario without running it") { scenarioArg, setOption, durationOption, scaleOption, nodesOption };
        command.SetAction(parse =>
        {
            var path = parse.GetValue(scenarioArg)!.FullName;
            var overrides = new List<string>(parse.GetValue(setOption) ?? []);
            if (parse.GetValue(durationOption) is { } duration)
                overrides.Add("duration=" + duration);
            var input = ScenarioInput.Load(path, overrides, parse.GetValue(scaleOption));
            if (input.Scenario is null)
                return ScenarioInput.PrintErrors(input);
            var s = input.Scenario;
            if (!Cluster.ClusterArguments.TryParseNodes(parse.GetValue(nodesOption), s.TotalDevices, out var nodes, out var nodesError))
            {
                Console.Error.WriteLine("error: " + nodesError);
                return ExitCodes.BadInput;
            }

            if (nodes > 0)
                Console.WriteLine($"run --nodes: {nodes} worker process{(nodes == 1 ? "" : "es")}, about {(s.TotalDevices + nodes - 1) / nodes:N0} devices each");
            if (s.Hub is Scenarios.Model.EmbeddedHub { Options: var hub } && hub.PartitionsFor(s.TotalDevices) is > 1 and var partitions)
                Console.WriteLine($"embedded hub: {partitions} partition processes (127.0.0.10 to 127.0.0.{9 + partitions}), about {(s.TotalDevices + partitions - 1) / partitions:N0} devices each");
            Console.WriteLine($"{parse.GetValue(scenarioArg)!.Name}: ok ({s.Name}: {s.TotalDevices:N0} devices in {s.DeviceGroups.Count} group(s), {s.Load.Count} phase(s), {s.Service.Count} service action(s), {s.Thresholds.Rules.Count} threshold(s))");
            return ExitCodes.Ok;
        });
        return command;
    }
}
