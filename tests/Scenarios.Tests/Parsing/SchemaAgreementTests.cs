using System.Text.Json;
using System.Text.Json.Nodes;
using FleetSim.Scenarios.Model;
using FleetSim.Scenarios.Parsing;

namespace FleetSim.Scenarios.Tests.Parsing;

/// <summary>The JSON Schema and the parser describe the same language.</summary>
public sealed class SchemaAgreementTests
{
    /// <summary>Uses every key of the language at least once (with the short form below).</summary>
    public const string KitchenSink = """
        name: kitchen-sink
        description: every key
        seed: 9
        duration: 2m
        hub:
          embedded:
            sasExpiryGrace: 1s
            partitions: 1
            quotas: {connectsPerSecond: 100, telemetryPerSecond: 1000, twinOperationsPerSecond: 50}
            faults:
              - {at: 10s, dropConnections: {fraction: 0.25}}
              - {at: 11s, dropConnections: {deviceId: ks-a-000}}
              - {at: 20s, refuseConnects: {for: 5s}}
              - {at: 30s, failTwin: {status: 503, ratio: 0.1, for: 10s}}
              - {at: 40s, delayAcks: {by: 100ms, for: 5s}}
              - {at: 50s, hubRestart: {for: 5s}}
              - {at: 55s, every: 20s, until: 95s, group: a, blackhole: {fraction: 0.1, for: 5s}}
              - {at: 60s, ids: 'ks-a-*', expireTokens: {fraction: 0.5}}
              - {at: 65s, latency: {by: 200ms, jitter: 50ms, for: 10s}}
        deviceGroups:
          - name: a
            count: 10
            idPattern: ks-a-{index:000}
            credential: symmetricKey
            transport: mqtt
            keepAlive: 45s
            modelId: "dtmi:example:Thing;1"
            productInfo: kitchen
            retry: {policy: exponential, baseDelay: 200ms, maxDelay: 5s}
            sasTtl: 10m
            sasRenewalMargin: 1m
            telemetry:
              interval: 2s
              jitter: 500ms
              payload: {v: "{{randomFloat 0 10}}"}
              properties: {site: "{{choice north south}}"}
              contentType: application/json
              contentEncoding: utf-8
              queue: {capacity: 10, whenDisconnected: queue}
              inFlight: 4
            reported: {interval: 10s, template: '{"ok": true}'}
            methods:
              reset: {status: 200, payload: '{"done": true}', delay: 10ms}
            unknownMethod: {status: 501}
            desired: {reportBack: true}
            c2d: {ack: false}
            fileUpload: {interval: 30s, sizeBytes: 1024}
          - name: b
            count: 5
            idPrefix: ks-b-
            credential: x509
            transport: mqtt-ws
            retry: {policy: fixed, interval: 3s}
            telemetry: {ratePerSecond: 3, contentType: text/plain, payload: 'n={{counter}}'}
          - name: c
            count: 5
            credential: sasToken
            retry: {policy: none, autoConnect: false}
            desired: {ensureDesiredProperties: false}
            telemetry: {queue: {whenDisconnected: drop}}
        load:
          - ramp: {to: 10, over: 5s, telemetry: {factor: 0.5}}
          - inject: {perSecond: 1, for: 5s, telemetry: {ratePerSecond: 1}}
          - hold: {for: 10s, telemetry: {interval: 1s}}
          - pause: {for: 2s}
          - rampDown: {to: 0, over: 5s}
        service:
          - invokeMethod: {name: reset, payload: '{}', ratePerSecond: 1, responseTimeout: 30s, connectTimeout: 1s, target: "group:a"}
          - patchDesired: {template: '{"x": "{{sequence}}"}', ratePerSecond: 1, target: all}
          - sendC2d: {template: 'hi', properties: {p: v}, ratePerSecond: 1, target: random}
        thresholds:
          abortOnBreach: true
          connect: ["p50 < 1s", "p75 < 1s", "p90 < 1s"]
          telemetry: ["p95 < 1s", "p99 < 1s", "max < 5s", "mean < 1s", "lost == 0", "duplicated == 0", "dropped == 0"]
          twinGet: ["errorRate < 1%"]
          reportedPatch: ["count > 0"]
          desiredDelivery: ["failed == 0"]
          methodRoundTrip: ["throughput > 0.5/s"]
          c2dDelivery: ["count >= 0"]
          reconnect: ["count >= 0"]
          sasRenewal: ["count >= 0"]
          fileUpload: ["count >= 0"]
          recovery: ["p99 < 30s", "neverReconnected == 0"]
          convergence: ["twinDiverged == 0", "twinUnchecked == 0"]
        """;

    public const string ShortFormSink = """
        name: short
        hub: {connectionString: "HostName=h;SharedAccessKeyName=service;SharedAccessKey=a2V5"}
        devices: {count: 4, idPattern: "s-{index}", connectRate: 2}
        telemetry: {interval: 1s}
        duration: 4s
        """;

    /// <summary>The keys that name files: a hub on other ports with its CA, and a group from connection strings (see <see cref="WriteConnectionFiles"/>).</summary>
    public const string ConnectionSink = """
        name: connections
        hub: {connectionString: "HostName=sink.example;SharedAccessKeyName=service;SharedAccessKey=a2V5", mqttPort: 18883, httpsPort: 18443, trustedCa: ca.pem}
        deviceGroups:
          - name: listed
            connectionStrings: devices.txt
            count: 2
            gatewayHostName: gw.sink.example
            tls: {versions: ["1.2", "1.3"], cipherSuites: [TLS_AES_128_GCM_SHA256, TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256], trustedCa: ca.pem}
            proxy: {url: "http://127.0.0.1:3128", username: me, password: secret}
            debugDevices: [listed-1]
        duration: 4s
        """;

    /// <summary>Writes ca.pem (a fresh self-signed CA) and devices.txt (three devices of sink.example) into <paramref name="dir"/>.</summary>
    internal static void WriteConnectionFiles(string dir)
    {
        using var key = System.Security.Cryptography.ECDsa.Create();
        var request = new System.Security.Cryptography.X509Certificates.CertificateRequest("CN=sink CA", key, System.Security.Cryptography.HashAlgorithmName.SHA256);
        using var ca = request.CreateSelfSigned(DateTimeOffset.UtcNow.AddDays(-1), DateTimeOffset.UtcNow.AddDays(1));
        File.WriteAllText(Path.Combine(dir, "ca.pem"), ca.ExportCertificatePem());
        File.WriteAllLines(Path.Combine(dir, "devices.txt"),
        [
            "# three devices",
            "HostName=sink.example;DeviceId=listed-0;SharedAccessKey=a2V5a2V5a2V5a2V5a2V5a2V5",
            "HostName=sink.example;DeviceId=listed-1;SharedAccessKey=a2V5a2V5a2V5a2V5a2V5a2V6",
            "",
            "HostName=sink.example;DeviceId=listed-2;SharedAccessKey=a2V5a2V5a2V5a2V5a2V5a2V7",
        ]);
    }

    private static string SchemaText => File.ReadAllText(Path.Combine(Loads.ScenariosFolder, "fleetsim.schema.json"));

    [Fact]
    public void The_parser_reads_every_key_the_schema_defines_and_nothing_else()
    {
        var catalog = SchemaCatalog.FromJson(SchemaText);
        foreach (var text in new[] { KitchenSink, ShortFormSink, "name: h\nhub: embedded\ndevices: {count: 1, idPrefix: p-}\nduration: 1s\n",
            "name: c\nhub: {chaos: [{at: 1s, dropConnections: {fraction: 1}}]}\ndevices: {count: 1, idPrefix: p-}\nduration: 2s\n" })
        {
            var result = ScenarioLoader.LoadFromText(text, "sink.yaml", schema: catalog);
            Assert.True(result.Success, string.Join("\n", result.Errors));
        }
        var dir = Directory.CreateTempSubdirectory("fleetsim-sink-").FullName;
        try
        {
            WriteConnectionFiles(dir);
            var result = ScenarioLoader.LoadFromText(ConnectionSink, Path.Combine(dir, "sink.yaml"), schema: catalog);
            Assert.True(result.Success, string.Join("\n", result.Errors));
        }
        finally
        {
            Directory.Delete(dir, recursive: true);
        }
        var schemaKeys = catalog.ObjectNames.SelectMany(o => catalog.Keys(o).Select(k => o + "." + k)).ToHashSet();
        Assert.Empty(schemaKeys.Except(catalog.ConsultedKeys).Order());
        Assert.Empty(catalog.ConsultedKeys.Except(schemaKeys).Order());
    }

    [Fact]
    public void The_embedded_schema_is_the_shipped_file()
    {
        Assert.Equal(SchemaText.ReplaceLineEndings(), SchemaCatalog.ReadEmbedded().ReplaceLineEndings());
    }

    [Fact]
    public void Every_schema_property_is_described_for_editors()
    {
        var catalog = SchemaCatalog.Default;
        foreach (var definition in catalog.ObjectNames)
        {
            foreach (var key in catalog.Keys(definition))
            {
                Assert.False(string.IsNullOrWhiteSpace(catalog.Description(definition, key)), $"{definition}.{key} has no description");
            }
        }
    }

    [Fact]
    public void A_key_removed_from_the_schema_is_rejected_by_the_parser()
    {
        var schema = JsonNode.Parse(SchemaText)!;
        schema["$defs"]!["deviceGroup"]!["properties"]!.AsObject().Remove("keepAlive");
        var catalog = SchemaCatalog.FromJson(schema.ToJsonString());
        var result = ScenarioLoader.LoadFromText("name: x\ndeviceGroups:\n  - {name: a, count: 1, keepAlive: 30s}\nduration: 1s\n", "x.yaml", schema: catalog);
        Assert.Contains(result.Errors, e => e.Message.Contains("unknown key 'keepAlive'", StringComparison.Ordinal));
    }

    [Fact]
    public void Enum_values_come_from_the_schema_and_each_is_accepted()
    {
        var catalog = SchemaCatalog.Default;
        foreach (var transport in catalog.EnumValues("transport"))
        {
            Loads.Ok($"name: x\ndeviceGroups:\n  - {{name: a, count: 1, transport: {transport}}}\nduration: 1s\n");
        }
        foreach (var credential in catalog.EnumValues("credential"))
        {
            Loads.Ok($"name: x\ndeviceGroups:\n  - {{name: a, count: 1, credential: {credential}}}\nduration: 1s\n");
        }
        foreach (var metric in catalog.EnumValues("thresholdMetric"))
        {
            var value = metric switch { "errorRate" => "1%", "throughput" => "1/s", "count" or "failed" or "lost" or "duplicated" or "dropped" or "neverReconnected" or "twinDiverged" or "twinUnchecked" => "1", _ => "1s" };
            var section = metric switch { "neverReconnected" => "recovery", "twinDiverged" or "twinUnchecked" => "convergence", _ => "telemetry" };
            Loads.Ok($"name: x\ndevices: {{count: 1}}\nduration: 1s\nthresholds:\n  {section}: [\"{metric} < {value}\"]\n");
        }
        Assert.Equal(Enum.GetNames<ThresholdMetric>().Select(n => n.ToLowerInvariant()), catalog.EnumValues("thresholdMetric").Select(n => n.ToLowerInvariant()));
    }

    [Fact]
    public void Threshold_operations_are_the_report_operation_names()
    {
        string[] operations = ["connect", "telemetry", "twinGet", "reportedPatch", "desiredDelivery", "methodRoundTrip", "c2dDelivery", "reconnect", "sasRenewal", "fileUpload"];
        Assert.Equal(operations.Append("abortOnBreach").Append(ThresholdSections.Recovery).Append(ThresholdSections.Convergence).Order(),
            SchemaCatalog.Default.Keys("thresholds").Order());
    }

    [Fact]
    public void Schema_is_valid_json_with_a_def_for_every_reference()
    {
        using var document = JsonDocument.Parse(SchemaText);
        var defs = document.RootElement.GetProperty("$defs").EnumerateObject().Select(p => p.Name).ToHashSet();
        foreach (var reference in System.Text.RegularExpressions.Regex.Matches(SchemaText, "\"#/\\$defs/([A-Za-z0-9]+)\"").Select(m => m.Groups[1].Value))
        {
            Assert.Contains(reference, defs);
        }
    }
}
