using FleetSim.Simulator.Logging;

namespace FleetSim.Simulator.Tests;

public sealed class ConsoleLogLineTests
{
    [Fact]
    public void A_log_event_with_an_embedded_stack_trace_is_one_line_on_the_console()
    {
        var line = "2026-12-02T12:51:36.282Z WARN akka://fleetsim/system/endpointManager: Association with remote system has failed;"
            + "\n   at Akka.Remote.EndpointWriter.PublishAndThrow(Exception reason)\r\n   at Akka.Actor.ActorCell.Invoke(Envelope envelope)";

        var console = DebugFileLogger.ConsoleLine(line);

        Assert.Equal("2026-12-02T12:51:36.282Z WARN akka://fleetsim/system/endpointManager: Association with remote system has failed; [...]", console);
    }

    [Fact]
    public void A_one_line_event_is_unchanged()
    {
        const string line = "2026-12-02T12:51:36.282Z WARN fleetsim-node: node 127.0.0.1:36957: the coordinator is gone";

        Assert.Equal(line, DebugFileLogger.ConsoleLine(line));
    }
}
