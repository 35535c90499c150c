using Akka.Actor;
using Akka.Configuration;
using Akka.TestKit;
using Akka.TestKit.Xunit2;
using FleetSim.Scenarios.Model;
using FleetSim.Scenarios.Parsing;
using FleetSim.Scenarios.Running;

namespace FleetSim.Scenarios.Tests.Running;

/// <summary>
/// What the scenario runner tests share: the runner in virtual time (TestScheduler), scenarios parsed from YAML, the
/// start handshake and a clock moved tick by tick.
/// </summary>
public abstract class RunnerTestKit() : TestKit(Config)
{
    private static readonly Config Config = ConfigurationFactory.ParseString(
        """akka.scheduler.implementation = "Akka.TestKit.TestScheduler, Akka.TestKit" """);

    /// <summary>The runner the test started (<see cref="StartRunner(Props)"/>), or one it created itself.</summary>
    protected IActorRef Runner { get; set; } = ActorRefs.Nobody;

    protected TestScheduler Clock => (TestScheduler)Sys.Scheduler;

    protected static Scenario Parse(string yaml)
    {
        var result = ScenarioLoader.LoadFromText(yaml, "test.yaml");
        Assert.True(result.Success, string.Join("\n", result.Errors));
        return result.Scenario!;
    }

    /// <summary>Creates the runner and starts it: Start is handled (timers registered at virtual time zero) before the clock moves.</summary>
    protected IActorRef StartRunner(Props props)
    {
        Runner = Sys.ActorOf(props);
        Runner.Tell(new Identify(1));
        ExpectMsg<ActorIdentity>();
        Runner.Tell(new ScenarioRunner.Start());
        Runner.Tell(new Identify(2));
        ExpectMsg<ActorIdentity>();
        return Runner;
    }

    /// <summary>
    /// Moves virtual time in ticks so each timer fires in order, as it would in real time, and lets the runner handle
    /// each tick before the clock moves on (the Identify round trip queues behind it): otherwise it could read a clock
    /// already advanced further and count a punctual tick as late.
    /// </summary>
    protected void Advance(TimeSpan by)
    {
        var probe = CreateTestProbe(); // not the test actor, which receives the runner's Finished
        for (var t = TimeSpan.Zero; t < by; t += ScenarioRunner.TickInterval)
        {
            Clock.Advance(ScenarioRunner.TickInterval);
            Runner.Tell(new Identify(t), probe.Ref);
            probe.ExpectMsg<ActorIdentity>();
        }
    }
}
