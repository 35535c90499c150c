using FleetSim.Bench.Peer;
using Xunit;

namespace FleetSim.Bench.Tests;

public class ProcSamplerTests
{
    [Fact]
    public void Cpu_ticks_are_utime_plus_stime_counted_after_the_last_parenthesis_of_the_command_name()
    {
        // Fields 14 (utime) = 250 and 15 (stime) = 50; the command name holds spaces and parentheses.
        const string stat = "4242 (dotnet (peer) gen) S 1 4242 4242 0 -1 4194560 1234 0 0 0 250 50 0 0 20 0 23 0 98765 3221225472 24576 "
                            + "18446744073709551615 1 1 0 0 0 0 0 4096 17663 0 0 0 17 1 0 0 0 0 0\n";

        Assert.Equal(300, ProcSampler.ParseCpuTicks(stat));
    }

    [Fact]
    public void A_stat_line_too_short_is_a_format_error()
    {
        Assert.Throws<FormatException>(() => ProcSampler.ParseCpuTicks("1 (x) S 1 2 3"));
        Assert.Throws<FormatException>(() => ProcSampler.ParseCpuTicks("no parentheses here"));
    }

    [Fact]
    public void Rss_is_the_VmRSS_line_in_bytes()
    {
        const string status = "Name:\tdotnet\nVmPeak:\t 3000000 kB\nVmHWM:\t  150000 kB\nVmRSS:\t   62036 kB\nRssAnon:\t   40000 kB\n";

        Assert.Equal(62036L * 1024, ProcSampler.ParseRssBytes(status));
        Assert.Throws<FormatException>(() => ProcSampler.ParseRssBytes("Name:\tx\nVmHWM:\t 1 kB\n"));
    }

    [Fact]
    public void This_process_can_be_read_from_proc()
    {
        var sample = ProcSampler.TryRead(Environment.ProcessId);

        Assert.NotNull(sample);
        Assert.True(sample.Value.RssBytes > 1024 * 1024, $"RSS {sample.Value.RssBytes}");
        Assert.True(sample.Value.CpuTicks > 0, $"CPU ticks {sample.Value.CpuTicks}");
        Assert.Null(ProcSampler.TryRead(int.MaxValue)); // no such process
    }
}

public class PeerTableTests
{
    private static PeerRun Run(string name, long acked, double cpuMs, long baselineMb, long steadyMb, double? p50 = 2, double? p99 = 8, int devices = 1000) =>
        new(name, new GeneratorResult(devices, devices, 4, 0, acked, acked, 0, 60, p50, p99), cpuMs, 600, baselineMb << 20, steadyMb << 20, 200L << 20);

    [Fact]
    public void Per_message_cpu_per_device_rss_and_rate_come_from_the_window()
    {
        var run = Run("x", acked: 60_000, cpuMs: 6_000, baselineMb: 50, steadyMb: 250);

        Assert.Equal(100, run.CpuMsPer1000!.Value, 6);   // 6,000 ms over 60,000 messages
        Assert.Equal(1000, run.MessagesPerSecond, 6);     // 60,000 over 60 s
        Assert.Equal(204.8, run.RssPerDeviceKb, 6);       // 200 MB over 1,000 devices
        Assert.Equal(0.1, run.CpuCores, 6);               // 6 s of CPU in 60 s
        Assert.Equal(10, run.HubCpuMsPer1000!.Value, 6);
        Assert.Null(Run("idle", acked: 0, cpuMs: 10, baselineMb: 1, steadyMb: 2).CpuMsPer1000);
    }

    [Fact]
    public void Every_cell_carries_its_ratio_to_the_reference_run()
    {
        var table = PeerTable.Render(
        [
            Run("FleetSim", acked: 60_000, cpuMs: 3_000, baselineMb: 50, steadyMb: 150, p50: 4),
            Run("raw", acked: 60_000, cpuMs: 6_000, baselineMb: 50, steadyMb: 250, p50: 2),
        ], "raw");

        var cpu = table.Split('\n').Single(l => l.StartsWith("| generator CPU ms per 1,000 msgs", StringComparison.Ordinal));
        Assert.Equal("| generator CPU ms per 1,000 msgs | 50.0 (0.50x) | 100.0 |", cpu);
        var p50 = table.Split('\n').Single(l => l.StartsWith("| PUBACK latency p50", StringComparison.Ordinal));
        Assert.Equal("| PUBACK latency p50 (ms) | 4.00 (2.00x) | 2.00 |", p50);
        var rss = table.Split('\n').Single(l => l.StartsWith("| generator RSS per device", StringComparison.Ordinal));
        Assert.Equal("| generator RSS per device (KB, steady - baseline) | 102.4 (0.50x) | 204.8 |", rss);
    }

    [Fact]
    public void A_value_a_generator_did_not_measure_is_na_without_a_ratio()
    {
        var table = PeerTable.Render([Run("a", 60_000, 3_000, 50, 150, p50: null), Run("raw", 60_000, 6_000, 50, 250)], "raw");

        Assert.Contains("| PUBACK latency p50 (ms) | n/a | 2.00 |", table);
        Assert.Null(PeerTable.Ratio(1, 0));
        Assert.Null(PeerTable.Ratio(null, 2));
        Assert.Equal(0.25, PeerTable.Ratio(1, 4));
    }

    [Fact]
    public void Connect_ratios_are_rates_against_the_raw_client_and_the_storm_ratio_is_the_raw_time_over_the_generator_time()
    {
        GeneratorResult Connect(double seconds, double? storm = null) => new(1000, 1000, seconds, 0, 0, 0, 0, 0, null, null, StormSeconds: storm);
        PeerRun Of(GeneratorResult r) => new("x", r, 0, 0, 0, 0, 0);
        var table = PeerBenchmark.ConnectTable(
        [
            new("FleetSim", Of(Connect(2)), Of(Connect(5)), Of(Connect(0, storm: 4))),
            new("raw MQTTnet", Of(Connect(1)), Of(Connect(5)), null),
        ], "raw MQTTnet", 200);

        Assert.Contains("| | FleetSim | raw MQTTnet | FleetSim / raw MQTTnet |", table);
        Assert.Contains("| all at once | 500/s (2.00 s, 0 retries) | 1000/s (1.00 s, 0 retries) | 0.50x |", table);
        Assert.Contains("| paced 200/s | 200/s (5.00 s, 0 retries) | 200/s (5.00 s, 0 retries) | 1.00x |", table);
        Assert.Contains("| storm after dropping all | all 1000 back in 4.00 s (250/s, 0 retries) | failed | n/a |", table);
    }

    [Fact]
    public void Connect_cpu_is_per_connected_device_for_the_generator_and_the_hub_with_the_generator_ratio()
    {
        var fleetsim = new PeerRun("f", new GeneratorResult(1000, 800, 2, 0, 0, 0, 0, 0, null, null), 0, 0, 0, 0, 0,
            ConnectGeneratorCpuMs: 2_400, ConnectHubCpuMs: 1_600);
        var raw = new PeerRun("r", new GeneratorResult(1000, 1000, 1, 0, 0, 0, 0, 0, null, null), 0, 0, 0, 0, 0,
            ConnectGeneratorCpuMs: 1_500, ConnectHubCpuMs: 1_000);
        var stormed = new PeerRun("s", new GeneratorResult(1000, 1000, 1, 0, 0, 0, 0, 0, null, null, StormSeconds: 2), 0, 0, 0, 0, 0,
            StormGeneratorCpuMs: 3_000, StormHubCpuMs: 500);

        Assert.Equal(3.0, fleetsim.GeneratorCpuMsPerConnect!.Value, 6); // 2,400 ms over the 800 that connected
        Assert.Equal(2.0, fleetsim.HubCpuMsPerConnect!.Value, 6);
        Assert.Equal(3.0, stormed.GeneratorCpuMsPerReconnect!.Value, 6); // 3,000 ms over 1,000 devices
        Assert.Null(fleetsim.GeneratorCpuMsPerReconnect); // no storm in that run
        var table = PeerBenchmark.ConnectTable([new("FleetSim", fleetsim, null, stormed), new("raw MQTTnet", raw, null, null)], "raw MQTTnet", 200);
        Assert.Contains("| CPU per connect, all at once: generator / hub (ms) | 3.00 / 2.00 | 1.50 / 1.00 | 2.00x |", table);
        Assert.Contains("| CPU per device, storm: generator / hub (ms) | 3.00 / 0.50 | n/a | n/a |", table);
    }

    [Fact]
    public void A_result_line_from_the_node_generator_parses()
    {
        const string line = "RESULT {\"devices\":2,\"connected\":2,\"connectSeconds\":1.5,\"connectRetries\":0,\"sent\":120,\"acked\":119,\"failed\":1,"
                            + "\"windowSeconds\":60.01,\"p50Ms\":1.25,\"p99Ms\":9.5,\"lagP50Ms\":0.1,\"lagP99Ms\":2,\"stormSeconds\":null,\"note\":null}";

        var result = GeneratorResult.Parse(line);

        Assert.Equal(new GeneratorResult(2, 2, 1.5, 0, 120, 119, 1, 60.01, 1.25, 9.5, 0.1, 2), result);
        Assert.Equal(result, GeneratorResult.Parse(result.ToLine()));
    }

    [Fact]
    public void The_median_of_the_steady_samples_is_the_lower_middle()
    {
        Assert.Equal(3, PeerBenchmark.Median([5, 1, 3]));
        Assert.Equal(2, PeerBenchmark.Median([4, 1, 2, 3]));
        Assert.Equal(0, PeerBenchmark.Median([]));
    }
}
