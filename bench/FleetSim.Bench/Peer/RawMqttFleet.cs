using System.Diagnostics;
using System.Net.Security;
using System.Security.Cryptography.X509Certificates;
using System.Text;
using FleetSim.Protocol;
using HdrHistogram;
using MQTTnet;
using MQTTnet.Formatter;
using MQTTnet.Protocol;

namespace FleetSim.Bench.Peer;

/// <summary>
/// The library ceiling: N plain MQTTnet 5 clients in this process, the way a hand-written fleet would use them
/// (TLS with the hub's CA, device SAS as the password, MQTT 3.1.1, QoS 1 telemetry to devices/{id}/messages/events/,
/// the same payload and content type as FleetSim's default), one message per device per period, sent by one loop:
/// <c>aligned</c> sends every device's message at each period boundary, <c>spread</c> spaces the devices evenly over
/// the period. No retry beyond the connect; reconnects only in a <c>--storm</c> run (immediately, then every 1 s).
/// Latency is from the intended send time to PublishAsync's completion (the PUBACK).
/// </summary>
public static class RawMqttFleet
{
    /// <summary>A mode ending in this (e.g. "spread-no-keepalive") connects with keep-alive 0: MQTTnet runs no keep-alive task.</summary>
    public const string NoKeepAliveSuffix = "-no-keepalive";

    private static readonly byte[] Payload = Encoding.UTF8.GetBytes("""{"temperature":21.5,"humidity":48}""");

    public static async Task<int> RunAsync(GeneratorArgs a)
    {
        var devices = a.ReadDevices();
        var n = devices.Length;
        using var ca = X509Certificate2.CreateFromPem(File.ReadAllText(a.CaPath));
        var factory = new MqttClientFactory();
        var clients = new IMqttClient[n];
        var options = new MqttClientOptions[n];
        var messages = new MqttApplicationMessage[n];
        var connected = 0;
        long firstDrop = 0;
        // Intended start (or loss) to CONNACK, as FleetSim's connect and reconnect latencies.
        var connectLatency = new LongHistogram(TimeStamp.Minutes(10), 3);
        var reconnectLatency = new LongHistogram(TimeStamp.Minutes(10), 3);
        long retries = 0;
        for (var i = 0; i < n; i++)
        {
            var (id, key) = devices[i];
            var resource = $"{a.HostName}/devices/{id}";
            options[i] = new MqttClientOptionsBuilder()
                .WithClientId(id)
                .WithCredentials(MqttUsername.Build(a.HostName, id), SasToken.Create(resource, key, DateTimeOffset.UtcNow.AddHours(2)))
                .WithCleanSession(false)
                .WithProtocolVersion(MqttProtocolVersion.V311)
                .WithKeepAlivePeriod(a.Mode.EndsWith(NoKeepAliveSuffix, StringComparison.Ordinal) ? TimeSpan.Zero : TimeSpan.FromSeconds(60)) // idle bench: MQTTnet's keep-alive task off, to see its cost
                .WithTimeout(TimeSpan.FromSeconds(60))
                .WithTcpServer("127.0.0.1", a.MqttPort)
                .WithTlsOptions(new MqttClientTlsOptionsBuilder().UseTls(true).WithTargetHost(a.HostName)
                    .WithCertificateValidationHandler(c => Validate(c.Certificate, c.SslPolicyErrors, ca)).Build())
                .Build();
            messages[i] = new MqttApplicationMessageBuilder()
                .WithTopic($"devices/{id}/messages/events/%24.ct=application%2Fjson&%24.ce=utf-8")
                .WithPayload(Payload)
                .WithQualityOfServiceLevel(MqttQualityOfServiceLevel.AtLeastOnce)
                .Build();
            clients[i] = factory.CreateMqttClient();
            var index = i;
            clients[i].DisconnectedAsync += e =>
            {
                if (e.ClientWasConnected)
                {
                    Interlocked.Decrement(ref connected);
                    Interlocked.CompareExchange(ref firstDrop, Stopwatch.GetTimestamp(), 0);
                    if (a.Storm)
                        _ = ReconnectAsync(index, Stopwatch.GetTimestamp());
                }

                return Task.CompletedTask;
            };
        }

        async Task ConnectAsync(int i, long startAt)
        {
            var wait = Stopwatch.GetElapsedTime(Stopwatch.GetTimestamp(), startAt);
            if (wait > TimeSpan.Zero)
                await Task.Delay(wait).ConfigureAwait(false);
            for (var attempt = 0; ; attempt++)
            {
                try
                {
                    await clients[i].ConnectAsync(options[i]).ConfigureAwait(false);
                    Interlocked.Increment(ref connected);
                    lock (connectLatency)
                        connectLatency.RecordValue(Math.Max(0, Stopwatch.GetTimestamp() - startAt));
                    return;
                }
                catch (Exception) when (attempt < 30)
                {
                    Interlocked.Increment(ref retries);
                    await Task.Delay(TimeSpan.FromMilliseconds(500 + Random.Shared.Next(1000))).ConfigureAwait(false);
                }
            }
        }

        async Task ReconnectAsync(int i, long lostAt)
        {
            for (var attempt = 0; attempt < 120; attempt++)
            {
                try
                {
                    await clients[i].ConnectAsync(options[i]).ConfigureAwait(false);
                    Interlocked.Increment(ref connected);
                    lock (reconnectLatency)
                        reconnectLatency.RecordValue(Stopwatch.GetTimestamp() - lostAt);
                    return;
                }
                catch (Exception)
                {
                    Interlocked.Increment(ref retries);
                    await Task.Delay(TimeSpan.FromSeconds(1)).ConfigureAwait(false);
                }
            }
        }

        Console.WriteLine($"{GeneratorResult.StartingLine} {GeneratorArgs.OwnRss()}");
        var connectClock = Stopwatch.StartNew();
        var t0 = Stopwatch.GetTimestamp();
        var connects = new Task[n];
        for (var i = 0; i < n; i++)
            connects[i] = ConnectAsync(i, a.ConnectRate > 0 ? t0 + (long)(i / a.ConnectRate * Stopwatch.Frequency) : t0);
        await Task.WhenAll(connects).ConfigureAwait(false);
        var connectSeconds = connectClock.Elapsed.TotalSeconds;
        Console.WriteLine(GeneratorResult.ReadyLine);

        var latency = new LongHistogram(TimeStamp.Seconds(120), 3);
        var lag = new LongHistogram(TimeStamp.Seconds(120), 3);
        long sent = 0, acked = 0, failed = 0, inFlight = 0;

        async Task SendAsync(int i, long intended)
        {
            Interlocked.Increment(ref inFlight);
            try
            {
                var result = await clients[i].PublishAsync(messages[i]).ConfigureAwait(false);
                var took = Stopwatch.GetTimestamp() - intended;
                if (result.IsSuccess)
                {
                    Interlocked.Increment(ref acked);
                    lock (latency)
                        latency.RecordValue(took);
                }
                else
                {
                    Interlocked.Increment(ref failed);
                }
            }
            catch (Exception)
            {
                Interlocked.Increment(ref failed);
            }
            finally
            {
                Interlocked.Decrement(ref inFlight);
            }
        }

        var period = (long)(Stopwatch.Frequency / a.RatePerDevice);
        var windowStart = Stopwatch.GetTimestamp();
        var windowEnd = windowStart + (long)(a.Seconds * Stopwatch.Frequency);
        var aligned = a.Mode == "aligned";
        // The k-th slot of device i is intended at windowStart + k * period (+ i * period / n when spread).
        long slot = 0; // k * n + i
        while (true)
        {
            var k = slot / n;
            var i = (int)(slot % n);
            var intended = windowStart + k * period + (aligned ? 0 : i * period / n);
            if (intended >= windowEnd)
                break;
            var now = Stopwatch.GetTimestamp();
            if (intended > now)
            {
                await Task.Delay(Stopwatch.GetElapsedTime(now, intended)).ConfigureAwait(false);
                continue;
            }

            sent++;
            lag.RecordValue(now - intended);
            _ = SendAsync(i, intended);
            slot++;
        }

        if (a.Seconds > 0)
        {
            var wait = Stopwatch.GetElapsedTime(Stopwatch.GetTimestamp(), windowEnd);
            if (wait > TimeSpan.Zero)
                await Task.Delay(wait).ConfigureAwait(false);
        }

        var windowSeconds = Stopwatch.GetElapsedTime(windowStart).TotalSeconds;
        Console.WriteLine(GeneratorResult.WindowEndLine);
        var drainDeadline = Stopwatch.StartNew();
        while (Interlocked.Read(ref inFlight) > 0 && drainDeadline.Elapsed < TimeSpan.FromSeconds(30))
            await Task.Delay(10).ConfigureAwait(false); // in-flight PUBACKs of the window's last messages

        double? stormSeconds = null;
        if (a.Storm)
        {
            stormSeconds = await StormAsync(() => Volatile.Read(ref connected), () => Interlocked.Read(ref firstDrop), n).ConfigureAwait(false);
            Console.WriteLine(GeneratorResult.StormEndLine);
        }

        var result = new GeneratorResult(n, Volatile.Read(ref connected), connectSeconds, Interlocked.Read(ref retries), sent, Interlocked.Read(ref acked),
            Interlocked.Read(ref failed), windowSeconds, Ms(latency, 50), Ms(latency, 99), Ms(lag, 50), Ms(lag, 99), stormSeconds,
            Note: Latency("connect", connectLatency) + (a.Storm ? ", " + Latency("reconnect", reconnectLatency) : ""));
        await Task.WhenAll(clients.Select(async c =>
        {
            try
            {
                if (c.IsConnected)
                    await c.DisconnectAsync().ConfigureAwait(false);
            }
            catch (Exception)
            {
                // the hub may already have closed it
            }

            c.Dispose();
        })).ConfigureAwait(false);
        Console.WriteLine(result.ToLine());
        return 0;
    }

    /// <summary>
    /// A storm run: the benchmark drops every connection on the hub after WINDOW_END; this waits for the drop (the
    /// connected count falls) and then until every device is connected again. Seconds from the first loss the
    /// generator saw (<paramref name="firstDrop"/>, a Stopwatch timestamp, or 0: from when the count fell).
    /// </summary>
    internal static async Task<double?> StormAsync(Func<int> connected, Func<long> firstDrop, int n)
    {
        var waitDrop = Stopwatch.StartNew();
        while (connected() >= n && firstDrop() == 0)
        {
            if (waitDrop.Elapsed > TimeSpan.FromSeconds(60))
                return null;
            await Task.Delay(1).ConfigureAwait(false);
        }

        var from = firstDrop() is var f and not 0 ? f : Stopwatch.GetTimestamp();
        while (connected() < n)
        {
            if (Stopwatch.GetElapsedTime(from) > TimeSpan.FromMinutes(5))
                return null;
            await Task.Delay(5).ConfigureAwait(false);
        }

        return Stopwatch.GetElapsedTime(from).TotalSeconds;
    }

    /// <summary>"name p50/p99/max a/b/c ms" of a histogram of Stopwatch ticks.</summary>
    internal static string Latency(string name, LongHistogram h)
    {
        lock (h)
        {
            return h.TotalCount == 0
                ? $"{name} n/a"
                : FormattableString.Invariant($"{name} p50/p99/max {Ms(h, 50):0}/{Ms(h, 99):0}/{h.GetMaxValue() * 1000.0 / Stopwatch.Frequency:0} ms");
        }
    }

    internal static double? Ms(LongHistogram h, double percentile) =>
        h.TotalCount == 0 ? null : h.GetValueAtPercentile(percentile) * 1000.0 / Stopwatch.Frequency;

    private static bool Validate(X509Certificate certificate, SslPolicyErrors errors, X509Certificate2 ca)
    {
        if ((errors & ~SslPolicyErrors.RemoteCertificateChainErrors) != SslPolicyErrors.None)
            return false; // name mismatch or no certificate
        using var chain = new X509Chain();
        chain.ChainPolicy.TrustMode = X509ChainTrustMode.CustomRootTrust;
        chain.ChainPolicy.CustomTrustStore.Add(ca);
        chain.ChainPolicy.RevocationMode = X509RevocationMode.NoCheck;
        using var leaf = new X509Certificate2(certificate);
        return chain.Build(leaf);
    }
}
