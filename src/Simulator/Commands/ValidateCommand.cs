using System.CommandLine;

namespace FleetSim.Simulator.Commands;

/// <summary><c>fleetsim validate SCENARIO.yaml</c>: every error at once, with file:line:column and a hint.</summary>
public static class ValidateCommand
{
    public static Command Create()
    {
        var scenarioArg = new Argument<FileInfo>("scenario") { Description = "The scenario file (YAML)" };
        var setOption = new Option<string[]>("--set") { Description = "Apply an override before validating: --set path=value (repeatable)" };
        var command = new Command("validate", "Check a scenario without running it") { scenarioArg, setOption };
        command.SetAction(parse =>
        {
            var path = parse.GetValue(scenarioArg)!.FullName;
            var input = ScenarioInput.Load(path, parse.GetValue(setOption) ?? [], null);
            if (input.Scenario is null)
                return ScenarioInput.PrintErrors(input);
            var s = input.Scenario;
            Console.WriteLine($"{parse.GetValue(scenarioArg)!.Name}: ok ({s.Name}: {s.TotalDevices:N0} devices in {s.DeviceGroups.Count} group(s), {s.Load.Count} phase(s), {s.Service.Count} service action(s), {s.Thresholds.Rules.Count} threshold(s))");
            return ExitCodes.Ok;
        });
        return command;
    }
}
