using System.Buffers;
using System.Diagnostics;
using System.Text.Json;
using FleetSim.Reporting;
using FleetSim.Scenarios.Templates;
using HdrHistogram;

namespace FleetSim.Bench;

/// <summary>The per-message hot paths, each against the obvious simpler way, in one run.</summary>
public static class MicroBenchmarks
{
    public static void Run(int rounds)
    {
        Metrics(rounds);
        Templates(rounds);
    }

    /// <summary>Latency recording from 2 threads: FleetMetrics (lock-free) vs one HdrHistogram behind a lock.</summary>
    private static void Metrics(int rounds)
    {
        const long ops = 2_000_000;
        var metrics = new FleetMetrics();
        var op = metrics.Operation("bench");
        var locked = new LongHistogram(TimeStamp.Hours(1), 3);
        var gate = new object();
        var results = Measure.SideBySide(rounds, ops,
            ("FleetMetrics.RecordOkTicks, 2 threads", n => Parallel(n, i => op.RecordOkTicks(1000 + (i & 1023)))),
            ("LongHistogram under a lock, 2 threads", n => Parallel(n, i =>
            {
                lock (gate)
                    locked.RecordValue(1000 + (i & 1023));
            })));
        Measure.Print("Latency recording (per message, every device)", results);
    }

    /// <summary>Rendering one telemetry payload: a compiled template into a reused buffer vs serializing an object.</summary>
    private static void Templates(int rounds)
    {
        const long ops = 1_000_000;
        var template = PayloadTemplate.Compile("""{"temperature": "{{gaussian 21 1.5}}", "humidity": "{{randomInt 30 60}}", "n": "{{counter}}", "id": "{{deviceId}}"}""");
        var state = template.CreateState("device-00001", 42, DateTimeOffset.UtcNow);
        var buffer = new ArrayBufferWriter<byte>(256);
        var random = new Random(42);
        var now = DateTimeOffset.UtcNow;
        long counter = 0;
        var results = Measure.SideBySide(rounds, ops,
            ("PayloadTemplate.Render into a reused buffer", n =>
            {
                for (long i = 0; i < n; i++)
                {
                    buffer.ResetWrittenCount();
                    template.Render(buffer, state, now);
                }
            }),
            ("JsonSerializer.SerializeToUtf8Bytes(new {...})", n =>
            {
                for (long i = 0; i < n; i++)
                {
                    _ = JsonSerializer.SerializeToUtf8Bytes(new Payload(21 + random.NextDouble() * 3, random.Next(30, 60), ++counter, "device-00001"));
                }
            }));
        Measure.Print("Telemetry payload rendering (per message)", results);
    }

    private sealed record Payload(double Temperature, int Humidity, long N, string Id);

    private static void Parallel(long n, Action<long> body)
    {
        var half = n / 2;
        var t1 = new Thread(() => { for (long i = 0; i < half; i++) body(i); });
        var t2 = new Thread(() => { for (long i = half; i < n; i++) body(i); });
        t1.Start();
        t2.Start();
        t1.Join();
        t2.Join();
    }
}
