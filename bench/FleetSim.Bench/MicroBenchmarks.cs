using System.Buffers;
using System.Diagnostics;
using System.Text.Json;
using FleetSim.Metrics;
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

    /// <summary>
    /// Latency recording: FleetMetrics (lock-free HdrHistogram Recorder plus an ok counter) vs one HdrHistogram behind a
    /// lock, from one thread (no contention: the cost of the instructions) and from two threads (every core recording
    /// at once: the cost of sharing cache lines).
    /// </summary>
    private static void Metrics(int rounds)
    {
        const long ops = 2_000_000;
        var metrics = new FleetMetrics();
        var op = metrics.Operation("bench");
        var locked = new LongHistogram(TimeStamp.Hours(1), 3);
        var gate = new object();
        var single = Measure.SideBySide(rounds, ops,
            ("FleetMetrics.RecordOkTicks, 1 thread", n =>
            {
                for (long i = 0; i < n; i++)
                    op.RecordOkTicks(1000 + (i & 1023));
            }),
            ("LongHistogram under a lock, 1 thread", n =>
            {
                for (long i = 0; i < n; i++)
                {
                    lock (gate)
                        locked.RecordValue(1000 + (i & 1023));
                }
            }));
        Measure.Print("Latency recording, one thread (per message, every device)", single);
        var results = Measure.SideBySide(rounds, ops,
            ("FleetMetrics.RecordOkTicks, 2 threads", n => Parallel(n, i => op.RecordOkTicks(1000 + (i & 1023)))),
            ("LongHistogram under a lock, 2 threads", n => Parallel(n, i =>
            {
                lock (gate)
                    locked.RecordValue(1000 + (i & 1023));
            })));
        Measure.Print("Latency recording, two threads at once (per message, every device)", results);
    }

    /// <summary>
    /// Rendering one telemetry payload: a compiled template into a reused buffer vs System.Text.Json. The fair baseline
    /// serializes the same four camelCase fields into the same reused buffer (a reused Utf8JsonWriter); the naive one
    /// allocates a new array per message, as SerializeToUtf8Bytes does. A sample of each is printed so the outputs can be compared.
    /// </summary>
    private static void Templates(int rounds)
    {
        const long ops = 1_000_000;
        var template = PayloadTemplate.Compile("""{"temperature": "{{gaussian 21 1.5}}", "humidity": "{{randomInt 30 60}}", "n": "{{counter}}", "id": "{{deviceId}}"}""");
        var state = template.CreateState("device-00001", 42, DateTimeOffset.UtcNow);
        var buffer = new ArrayBufferWriter<byte>(256);
        var random = new Random(42);
        var now = DateTimeOffset.UtcNow;
        long counter = 0;
        var json = new JsonSerializerOptions { PropertyNamingPolicy = JsonNamingPolicy.CamelCase };
        var writer = new Utf8JsonWriter(buffer);
        Console.WriteLine($"Template sample: {template.RenderToString(template.CreateState("device-00001", 42, now), now)}");
        Console.WriteLine($"JSON sample:     {JsonSerializer.Serialize(new Payload(21.7, 42, 1, "device-00001"), json)}");
        Console.WriteLine();
        var results = Measure.SideBySide(rounds, ops,
            ("PayloadTemplate.Render into a reused buffer", n =>
            {
                for (long i = 0; i < n; i++)
                {
                    buffer.ResetWrittenCount();
                    template.Render(buffer, state, now);
                }
            }),
            ("JsonSerializer.Serialize(new {...}) into the reused buffer", n =>
            {
                for (long i = 0; i < n; i++)
                {
                    buffer.ResetWrittenCount();
                    writer.Reset(buffer);
                    JsonSerializer.Serialize(writer, new Payload(21 + random.NextDouble() * 3, random.Next(30, 60), ++counter, "device-00001"), json);
                }
            }),
            ("JsonSerializer.SerializeToUtf8Bytes(new {...}), new array each", n =>
            {
                for (long i = 0; i < n; i++)
                {
                    _ = JsonSerializer.SerializeToUtf8Bytes(new Payload(21 + random.NextDouble() * 3, random.Next(30, 60), ++counter, "device-00001"), json);
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
