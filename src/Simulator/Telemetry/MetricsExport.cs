using System.Diagnostics.Metrics;
using FleetSim.Metrics;
using FleetSim.Reporting;
using OpenTelemetry;
using OpenTelemetry.Exporter;
using OpenTelemetry.Metrics;

namespace FleetSim.Simulator.Telemetry;

/// <summary>Where live metrics go during a run besides the report: an OTLP collector and/or a Prometheus scrape endpoint.</summary>
public sealed record MetricsExportOptions(Uri? OtlpEndpoint, int? PrometheusPort)
{
    public bool Enabled => OtlpEndpoint is not null || PrometheusPort is not null;
}

/// <summary>
/// Publishes the run's <see cref="FleetMetrics"/> as OpenTelemetry instruments (meter "FleetSim"), read through
/// observable callbacks when an exporter collects, so the devices' hot path is untouched: counters as
/// <c>fleetsim.counter</c> (attribute name), gauges as <c>fleetsim.gauge</c>, per operation the ok and failed totals and
/// the p50/p95/p99 of the last 1-second sample, for watching long soaks live in an existing dashboard.
/// </summary>
public sealed class MetricsExport : IDisposable
{
    public const string MeterName = "FleetSim";

    private readonly Meter _meter;
    private readonly MeterProvider _provider;

    public MetricsExport(FleetMetrics metrics, string scenario, MetricsExportOptions options)
    {
        _meter = new Meter(MeterName, typeof(MetricsExport).Assembly.GetName().Version?.ToString());
        var scenarioTag = new KeyValuePair<string, object?>("scenario", scenario);
        _meter.CreateObservableCounter("fleetsim.counter", () => Each(metrics.Snapshot().Counters, scenarioTag), description: "FleetSim counters (telemetry.sent, telemetry.acked, ...)");
        _meter.CreateObservableGauge("fleetsim.gauge", () => EachGauge(metrics.Snapshot().Gauges, scenarioTag), description: "FleetSim gauges (devices.connected, ...)");
        _meter.CreateObservableCounter("fleetsim.operation.ok", () => Operations(metrics, scenarioTag, ok: true), description: "Successful operations");
        _meter.CreateObservableCounter("fleetsim.operation.failed", () => Operations(metrics, scenarioTag, ok: false), description: "Failed operations");
        _meter.CreateObservableGauge("fleetsim.operation.latency", () => Latest(metrics, scenarioTag), unit: "ms", description: "Latency percentiles of the last second");

        var builder = Sdk.CreateMeterProviderBuilder().AddMeter(MeterName);
        if (options.OtlpEndpoint is { } endpoint)
        {
            builder.AddOtlpExporter((exporter, reader) =>
            {
                exporter.Endpoint = endpoint;
                exporter.Protocol = OtlpExportProtocol.HttpProtobuf;
                reader.PeriodicExportingMetricReaderOptions.ExportIntervalMilliseconds = 5000;
            });
        }

        if (options.PrometheusPort is { } port)
            builder.AddPrometheusHttpListener(p =>
            {
                p.Host = "127.0.0.1";
                p.Port = port;
            });
        _provider = builder.Build();
    }

    private static IEnumerable<Measurement<long>> Each(IReadOnlyDictionary<string, long> values, KeyValuePair<string, object?> scenario)
    {
        foreach (var (name, value) in values)
            yield return new Measurement<long>(value, scenario, new("name", name));
    }

    private static IEnumerable<Measurement<long>> EachGauge(IReadOnlyDictionary<string, GaugeSnapshot> values, KeyValuePair<string, object?> scenario)
    {
        foreach (var (name, value) in values)
            yield return new Measurement<long>(value.Value, scenario, new("name", name));
    }

    private static IEnumerable<Measurement<long>> Operations(FleetMetrics metrics, KeyValuePair<string, object?> scenario, bool ok)
    {
        foreach (var (name, op) in metrics.Snapshot().Operations)
            yield return new Measurement<long>(ok ? op.OkCount : op.FailedCount, scenario, new("operation", name));
    }

    private static IEnumerable<Measurement<double>> Latest(FleetMetrics metrics, KeyValuePair<string, object?> scenario)
    {
        if (metrics.LatestSample is not { } sample)
            yield break;
        foreach (var (name, op) in sample.Operations)
        {
            if (op.P50Ms is { } p50)
                yield return new Measurement<double>(p50, scenario, new("operation", name), new("quantile", "0.5"));
            if (op.P95Ms is { } p95)
                yield return new Measurement<double>(p95, scenario, new("operation", name), new("quantile", "0.95"));
            if (op.P99Ms is { } p99)
                yield return new Measurement<double>(p99, scenario, new("operation", name), new("quantile", "0.99"));
        }
    }

    public void Dispose()
    {
        _provider.Dispose(); // flushes the last export
        _meter.Dispose();
    }
}
