using FleetSim.Protocol;
using FleetSim.Scenarios.Model;

namespace FleetSim.Scenarios.Tests.Parsing;

public sealed class LanguageTests
{
    private const string Groups = """
        name: x
        deviceGroups:
          - {name: sensors, count: 60}
          - {name: gateways, count: 40, methods: {reboot: {status: 202, delay: 1s}}}

        """;

    [Fact]
    public void Load_phases_parse_in_order_with_their_telemetry_changes()
    {
        var scenario = Loads.Ok(Groups + """
            load:
              - ramp: {to: 50, over: 10s}
              - inject: {perSecond: 5, for: 4s, telemetry: {factor: 2}}
              - hold: {for: 1m, telemetry: {ratePerSecond: 4}}
              - pause: {for: 5s}
              - rampDown: {to: 0, over: 10s, telemetry: {interval: 2s}}
            """);
        Assert.Equal(
            [
                new RampPhase(50, TimeSpan.FromSeconds(10), null),
                new InjectPhase(5, TimeSpan.FromSeconds(4), new TelemetryRateChange(2, null)),
                new HoldPhase(TimeSpan.FromMinutes(1), new TelemetryRateChange(null, TimeSpan.FromMilliseconds(250))),
                new PausePhase(TimeSpan.FromSeconds(5)),
                new RampDownPhase(0, TimeSpan.FromSeconds(10), new TelemetryRateChange(null, TimeSpan.FromSeconds(2))),
            ],
            scenario.Load);
        Assert.Equal(TimeSpan.FromSeconds(89), scenario.Duration);
        Assert.Equal(TimeSpan.FromMilliseconds(500), new TelemetryRateChange(2, null).Apply(TimeSpan.FromSeconds(1)));
    }

    [Theory]
    [InlineData("- ramp: {to: 101, over: 1s}", "have only 100")]
    [InlineData("- ramp: {to: 50, over: 1s}\n  - ramp: {to: 10, over: 1s}", "use rampDown")]
    [InlineData("- rampDown: {to: 10, over: 1s}", "use ramp")]
    [InlineData("- ramp: {to: 90, over: 1s}\n  - inject: {perSecond: 5, for: 3s}", "adds 15 devices to 90")]
    [InlineData("- hold: {for: 1s}\n  - wait: {for: 1s}", "unknown key 'wait'")]
    [InlineData("- hold: {for: 1s, over: 2s}", "unknown key 'over'")]
    [InlineData("- {hold: {for: 1s}, pause: {for: 1s}}", "cannot be used together")]
    [InlineData("- hold: {for: 1s, telemetry: {factor: 2, interval: 1s}}", "cannot be used together")]
    public void Load_phases_that_cannot_happen_are_errors(string phases, string expected)
    {
        var errors = Loads.Errors(Groups + "load:\n  " + phases + "\n");
        Assert.Contains(errors, e => (e.Message + e.Hint).Contains(expected, StringComparison.Ordinal) && e.Line >= 6);
    }

    [Fact]
    public void Explicit_duration_wins_over_the_phase_sum()
    {
        var scenario = Loads.Ok(Groups + "duration: 5s\nload:\n  - ramp: {to: 100, over: 1m}\n");
        Assert.Equal(TimeSpan.FromSeconds(5), scenario.Duration);
    }

    [Fact]
    public void Service_actions_parse_with_targets_and_defaults()
    {
        var scenario = Loads.Ok(Groups + """
            duration: 1m
            service:
              - invokeMethod: {name: reboot, ratePerSecond: 2.5, target: "group:gateways", responseTimeout: 10s, connectTimeout: 2s, payload: '{"now": true}'}
              - patchDesired: {template: {level: "{{randomInt 1 3}}"}, ratePerSecond: 1, target: all}
              - sendC2d: {template: 'ping', ratePerSecond: 1, properties: {urgent: "{{bool}}"}}
            """);
        var invoke = Assert.IsType<InvokeMethodAction>(scenario.Service[0]);
        Assert.Equal(("reboot", 2.5, ServiceTargetKind.Group, "gateways"), (invoke.MethodName, invoke.RatePerSecond, invoke.Target.Kind, invoke.Target.GroupName));
        Assert.Equal((TimeSpan.FromSeconds(10), TimeSpan.FromSeconds(2)), (invoke.ResponseTimeout, invoke.ConnectTimeout));
        Assert.Equal("{\"now\": true}", invoke.Payload!.Source);
        Assert.Equal(ServiceTarget.All, scenario.Service[1].Target);
        var c2d = Assert.IsType<SendC2dAction>(scenario.Service[2]);
        Assert.Equal(ServiceTarget.Random, c2d.Target);
        Assert.Equal("urgent", Assert.Single(c2d.Properties).Key);
        var handler = scenario.Group("gateways")!.Methods["reboot"];
        Assert.Equal((202, TimeSpan.FromSeconds(1)), (handler.Status, handler.Delay));
        Assert.Equal(404, scenario.Group("sensors")!.UnknownMethod.Status);
    }

    [Fact]
    public void Unknown_target_group_is_positioned_after_the_prefix_with_a_suggestion()
    {
        var error = Loads.One(Groups + "duration: 1m\nservice:\n  - invokeMethod: {name: reboot, ratePerSecond: 1, target: group:gateway}\n");
        Assert.Equal((7, 66), (error.Line, error.Column));
        Assert.Equal("did you mean 'group:gateways'?", error.Hint);
    }

    [Theory]
    [InlineData("responseTimeout: 1s", "out of range")]
    [InlineData("ratePerSecond: 0", "out of range")]
    [InlineData("target: some", "not valid")]
    public void Bad_service_values_are_errors(string extra, string expected)
    {
        var yaml = Groups + "duration: 1m\nservice:\n  - invokeMethod: {name: reboot, " + (extra.StartsWith("rate", StringComparison.Ordinal) ? "" : "ratePerSecond: 1, ") + extra + "}\n";
        Assert.Contains(expected, Loads.One(yaml).Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Thresholds_parse_into_normalised_rules()
    {
        var scenario = Loads.Ok(Groups + """
            duration: 1m
            thresholds:
              abortOnBreach: true
              telemetry: ["p99 < 200ms", "errorRate <= 1%", "lost == 0", "throughput >= 500/s"]
              connect: ["max < 2s", "count >= 100", "errorRate < 0.05", "p50 != 0ms"]
            """);
        Assert.True(scenario.Thresholds.AbortOnBreach);
        var rules = scenario.Thresholds.Rules;
        Assert.Contains(new ThresholdRule("telemetry", ThresholdMetric.P99, Comparison.Less, 200, "p99 < 200ms"), rules);
        Assert.Contains(new ThresholdRule("telemetry", ThresholdMetric.ErrorRate, Comparison.LessOrEqual, 0.01, "errorRate <= 1%"), rules);
        Assert.Contains(new ThresholdRule("telemetry", ThresholdMetric.Throughput, Comparison.GreaterOrEqual, 500, "throughput >= 500/s"), rules);
        Assert.Contains(new ThresholdRule("connect", ThresholdMetric.Max, Comparison.Less, 2000, "max < 2s"), rules);
        var p99 = rules.First(r => r.Metric == ThresholdMetric.P99);
        Assert.True(p99.IsMet(199.9));
        Assert.False(p99.IsMet(200));
        Assert.True(p99.IsLatency);
    }

    [Theory]
    [InlineData("telemetry: [\"p98 < 1s\"]", 16, "did you mean")]
    [InlineData("telemetry: [\"p99 ~ 1s\"]", 20, "needs a comparison")]
    [InlineData("telemetry: [\"p99 < 200\"]", 22, "no unit")]
    [InlineData("telemetry: [\"errorRate < 150%\"]", 28, "error rate")]
    [InlineData("connect: [\"lost == 0\"]", 14, "telemetry only")]
    [InlineData("conect: [\"count > 1\"]", 3, "unknown key")]
    [InlineData("recovery: [\"errorRate < 1%\"]", 15, "not a metric of thresholds.recovery")]
    [InlineData("telemetry: [\"neverReconnected == 0\"]", 16, "thresholds.recovery")]
    [InlineData("connect: [\"twinDiverged == 0\"]", 14, "thresholds.convergence")]
    public void Bad_threshold_rules_point_into_the_rule_text(string line, int column, string expected)
    {
        var error = Loads.One(Groups + "duration: 1m\nthresholds:\n  " + line + "\n");
        Assert.Contains(expected, error.Message + error.Hint, StringComparison.Ordinal);
        Assert.Equal(7, error.Line);
        Assert.Equal(column, error.Column);
    }

    [Fact]
    public void Recovery_and_convergence_thresholds_parse_into_rules_of_their_sections()
    {
        var rules = Loads.Ok(Groups + """
            duration: 1m
            thresholds:
              recovery: ["p99 < 30s", "neverReconnected == 0", "count >= 1"]
              convergence: ["twinDiverged == 0"]
            """).Thresholds.Rules;
        Assert.Contains(new ThresholdRule("recovery", ThresholdMetric.P99, Comparison.Less, 30_000, "p99 < 30s"), rules);
        Assert.Contains(new ThresholdRule("recovery", ThresholdMetric.NeverReconnected, Comparison.Equal, 0, "neverReconnected == 0"), rules);
        Assert.Contains(new ThresholdRule("convergence", ThresholdMetric.TwinDiverged, Comparison.Equal, 0, "twinDiverged == 0"), rules);
    }

    [Fact]
    public void Environment_variables_are_interpolated_into_values()
    {
        var scenario = Loads.Ok("name: env-${FLEETSIM_TEST_COUNT}\ndevices:\n  count: ${FLEETSIM_TEST_COUNT}\nduration: 1s\nhub: \"${FLEETSIM_TEST_HUB}\"\n");
        Assert.Equal(7, Loads.Ok("name: x\ndevices: {count: \"${FLEETSIM_TEST_COUNT}\"}\nduration: 1s\n").TotalDevices);
        Assert.Equal(("env-7", 7), (scenario.Name, scenario.TotalDevices));
        var hub = Assert.IsType<ConnectionStringHub>(scenario.Hub);
        Assert.Equal("test.azure-devices.net", hub.ConnectionString.HostName);
        Assert.DoesNotContain("c2VjcmV0", hub.ToString(), StringComparison.Ordinal);
    }

    [Fact]
    public void Missing_environment_variable_is_positioned_at_the_reference()
    {
        var error = Loads.One("name: x\ndevices: {count: 1}\nduration: 1s\nhub: {connectionString: \"HostName=${NOT_SET_ANYWHERE}\"}\n");
        Assert.Equal((4, 35), (error.Line, error.Column));
        Assert.Contains("'NOT_SET_ANYWHERE' is not set", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Dollar_dollar_brace_is_a_literal()
    {
        var scenario = Loads.Ok("name: cost-$${x}\ndevices: {count: 1}\nduration: 1s\n");
        Assert.Equal("cost-${x}", scenario.Name);
    }

    [Fact]
    public void Invalid_hub_connection_strings_never_echo_the_secret()
    {
        var error = Loads.One("name: x\ndevices: {count: 1}\nduration: 1s\nhub: \"HostName=h;DeviceId=d;SharedAccessKey=c2VjcmV0\"\n");
        Assert.Contains("device connection string", error.Message, StringComparison.Ordinal);
        Assert.DoesNotContain("c2VjcmV0", error.ToString(), StringComparison.Ordinal);
        Assert.Equal((4, 6), (error.Line, error.Column));
    }

    [Fact]
    public void Embedded_hub_options_parse_quotas_and_faults()
    {
        var scenario = Loads.Ok(Loads.Minimal + """

            hub:
              embedded:
                sasExpiryGrace: 5s
                quotas: {connectsPerSecond: 50, telemetryPerSecond: 1000, twinOperationsPerSecond: 10}
                faults:
                  - {at: 1s, dropConnections: {deviceId: device-1}}
                  - {at: 2s, refuseConnects: {for: 3s}}
                  - {at: 3s, failTwin: {status: 503, ratio: 0.5, for: 1s}}
                  - {at: 4s, delayAcks: {by: 200ms, for: 2s}}
            """);
        var options = Assert.IsType<EmbeddedHub>(scenario.Hub).Options;
        Assert.Equal(new HubQuotas(50, 1000, 10), options.Quotas);
        Assert.Equal(TimeSpan.FromSeconds(5), options.SasExpiryGrace);
        Assert.Equal(
            [
                new DropConnectionsFault(TimeSpan.FromSeconds(1), 1.0, "device-1"),
                new RefuseConnectsFault(TimeSpan.FromSeconds(2), TimeSpan.FromSeconds(3)),
                new FailTwinFault(TimeSpan.FromSeconds(3), 503, 0.5, TimeSpan.FromSeconds(1)),
                new DelayAcksFault(TimeSpan.FromSeconds(4), TimeSpan.FromMilliseconds(200), TimeSpan.FromSeconds(2)),
            ],
            options.Faults);
    }

    [Theory]
    [InlineData("3", 3, 3)]
    [InlineData("1", 1, 1)]
    [InlineData("auto", null, 2)]
    public void Embedded_hub_partitions_are_a_count_or_auto(string value, int? configured, int forTenThousand)
    {
        var options = Assert.IsType<EmbeddedHub>(Loads.Ok(Loads.Minimal + $"\nhub: {{embedded: {{partitions: {value}}}}}\n").Hub).Options;
        Assert.Equal(configured, options.Partitions);
        Assert.Equal(forTenThousand, options.PartitionsFor(10_000));
    }

    [Fact]
    public void Auto_partitions_give_one_per_nine_thousand_devices_and_one_for_a_small_fleet()
    {
        Assert.Equal(1, EmulatorOptions.Default.PartitionsFor(1));
        Assert.Equal(1, EmulatorOptions.Default.PartitionsFor(9_000));
        Assert.Equal(2, EmulatorOptions.Default.PartitionsFor(9_001));
        Assert.Equal(12, EmulatorOptions.Default.PartitionsFor(100_000));
        Assert.Equal(EmulatorOptions.MaxPartitions, EmulatorOptions.Default.PartitionsFor(10_000_000));
    }

    [Theory]
    [InlineData("0")]
    [InlineData("65")]
    [InlineData("many")]
    [InlineData("1.5")]
    public void Bad_embedded_hub_partitions_are_an_error_at_their_position(string value)
    {
        var error = Loads.One(Loads.Minimal + $"\nhub:\n  embedded:\n    partitions: {value}\n");
        Assert.Contains("partitions", error.Message, StringComparison.Ordinal);
        Assert.Equal(Loads.Minimal.Split('\n').Length + 3, error.Line);
    }

    [Fact]
    public void A_fault_needs_exactly_one_kind()
    {
        Assert.Contains("expected one of dropConnections", Loads.One(Loads.Minimal + "\nhub: {embedded: {faults: [{at: 1s}]}}\n").Message, StringComparison.Ordinal);
        Assert.Contains("cannot be used together", Loads.One(Loads.Minimal + "\nhub: {embedded: {faults: [{at: 1s, dropConnections: {fraction: 0.5, deviceId: d}}]}}\n").Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Hub_connection_string_accepts_the_service_string()
    {
        var text = "HostName=h.azure-devices.net;SharedAccessKeyName=iothubowner;SharedAccessKey=a2V5";
        var scenario = Loads.Ok(Loads.Minimal + $"\nhub: {{connectionString: \"{text}\"}}\n");
        Assert.Equal(ServiceConnectionString.Parse(text), ((ConnectionStringHub)scenario.Hub).ConnectionString);
    }
}

public sealed class FaultTimingTests
{
    [Fact]
    public void A_fault_after_the_end_of_the_run_is_an_error_at_its_time()
    {
        var error = Loads.One("name: x\ndevices: {count: 1}\nduration: 10s\nhub:\n  embedded:\n    faults:\n      - {at: 5s, refuseConnects: {for: 1s}}\n      - {at: 10s, refuseConnects: {for: 1s}}\n");
        Assert.Equal((8, 14), (error.Line, error.Column));
        Assert.Contains("would never happen", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Secrets_never_appear_in_errors()
    {
        var errors = Loads.Errors("name: x\ndevices: {count: 1}\nduration: 1s\nhub: {connectionString: \"HostName=h;SharedAccessKeyName=o;SharedAccessKey=c2VjcmV0\", extra: \"SharedAccessKey=c2VjcmV0\"}\nseed: \"SharedAccessKey=c2VjcmV0\"\n");
        Assert.All(errors, e => Assert.DoesNotContain("c2VjcmV0", e.ToString(), StringComparison.Ordinal));
    }
}

public sealed class DeviceLookupTests
{
    private const string Fleet = "name: x\ndeviceGroups:\n  - {name: a, count: 100, idPattern: 'a-{index:000}'}\n  - {name: b, count: 5, idPrefix: b-}\nduration: 1m\n";

    [Theory]
    [InlineData("a-000", "a", 0)]
    [InlineData("a-099", "a", 99)]
    [InlineData("b-4", "b", 4)]
    public void A_device_id_maps_back_to_its_group_and_index(string id, string group, int index)
    {
        Assert.True(Loads.Ok(Fleet).TryFindDevice(id, out var found, out var i));
        Assert.Equal((group, index), (found.Name, i));
    }

    [Theory]
    [InlineData("a-100")]
    [InlineData("a-99")]
    [InlineData("b-5")]
    [InlineData("b-04")]
    [InlineData("c-1")]
    [InlineData("a-")]
    public void Ids_outside_the_fleet_are_not_found(string id) => Assert.False(Loads.Ok(Fleet).TryFindDevice(id, out _, out _));

    [Fact]
    public void A_fault_naming_an_unknown_device_is_an_error()
    {
        var error = Loads.One(Fleet + "hub:\n  embedded:\n    faults:\n      - {at: 1s, dropConnections: {deviceId: a-100}}\n");
        Assert.Equal((9, 9), (error.Line, error.Column));
        Assert.Contains("a-000..a-099", error.Hint, StringComparison.Ordinal);
        Loads.Ok(Fleet + "hub:\n  embedded:\n    faults:\n      - {at: 1s, dropConnections: {deviceId: b-3}}\n");
    }
}
