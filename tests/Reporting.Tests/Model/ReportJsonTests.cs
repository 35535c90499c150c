using System.Text.Json;

using FleetSim.Metrics;

namespace FleetSim.Reporting.Tests.Model;

public sealed class ReportJsonTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("fleetsim-json-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    [Theory]
    [InlineData("schemaVersion")]
    [InlineData("devices.target")]
    [InlineData("devices.connectedPeak")]
    [InlineData("telemetry.sent")]
    [InlineData("telemetry.acked")]
    [InlineData("telemetry.ingested")]
    [InlineData("telemetry.lost")]
    [InlineData("telemetry.duplicated")]
    [InlineData("latency.telemetry.p50")]
    [InlineData("latency.telemetry.p95")]
    [InlineData("latency.telemetry.p99")]
    [InlineData("latency.telemetry.max")]
    [InlineData("latency.telemetry.count")]
    [InlineData("latency.connect.failed")]
    [InlineData("latency.connect.failures.throttled")]
    [InlineData("latency.methodRoundTrip.p99")]
    [InlineData("run.hubKind")]
    [InlineData("timeSeries")]
    public void Report_json_has_the_documented_paths(string path)
    {
        var file = Path.Combine(_dir, "report.json");
        ReportJson.Write(SampleReports.Known(), file);

        using var document = JsonDocument.Parse(File.ReadAllText(file));
        var element = document.RootElement;
        foreach (var segment in path.Split('.'))
        {
            Assert.True(element.TryGetProperty(segment, out element), $"missing {segment} of {path}");
        }

        Assert.NotEqual(JsonValueKind.Null, element.ValueKind);
    }

    [Fact]
    public void Values_are_written_in_milliseconds_and_counts()
    {
        var json = JsonDocument.Parse(ReportJson.Serialize(SampleReports.Known())).RootElement;

        Assert.Equal(1000, json.GetProperty("latency").GetProperty("telemetry").GetProperty("count").GetInt64());
        Assert.InRange(json.GetProperty("latency").GetProperty("telemetry").GetProperty("p99").GetDouble(), 98.9, 99.1);
        Assert.Equal(2, json.GetProperty("latency").GetProperty("connect").GetProperty("failures").GetProperty("throttled").GetInt64());
        Assert.Equal(1000, json.GetProperty("telemetry").GetProperty("ingested").GetInt64());
    }

    [Fact]
    public void Write_then_read_round_trips()
    {
        var original = SampleReports.Known();
        var file = Path.Combine(_dir, "nested", "report.json");

        ReportJson.Write(original, file);
        var read = ReportJson.Read(file);

        Assert.Equal(ReportJson.Serialize(original), ReportJson.Serialize(read));
        Assert.Equal(original.Run, read.Run);
        Assert.Equal(original.Telemetry, read.Telemetry);
    }

    [Fact]
    public void Faults_are_written_in_time_order_and_read_back()
    {
        var report = ReportBuilder.Build(SampleReports.KnownMetrics(), SampleReports.Inputs() with
        {
            Faults = [new FaultRecord(60, "refused connects for 10 s", true), new FaultRecord(30, "dropped 4 of 8 connections", true)],
        });
        var file = Path.Combine(_dir, "faults.json");
        ReportJson.Write(report, file);

        var faults = JsonDocument.Parse(File.ReadAllText(file)).RootElement.GetProperty("faults");
        Assert.Equal(30, faults[0].GetProperty("atSeconds").GetDouble());
        Assert.Equal("dropped 4 of 8 connections", faults[0].GetProperty("description").GetString());
        Assert.True(faults[0].GetProperty("applied").GetBoolean());
        Assert.Equal(report.Faults, ReportJson.Read(file).Faults);
    }

    [Fact]
    public void A_report_written_before_faults_existed_reads_with_none()
    {
        var file = Path.Combine(_dir, "old.json");
        var json = System.Text.Json.Nodes.JsonNode.Parse(ReportJson.Serialize(SampleReports.Known()))!.AsObject();
        json.Remove("faults");
        File.WriteAllText(file, json.ToJsonString());

        Assert.Empty(ReportJson.Read(file).Faults);
    }

    [Theory]
    [InlineData(2, "newer")]
    [InlineData(0, "older")]
    public void Another_schema_version_is_refused_clearly(int version, string age)
    {
        var file = Path.Combine(_dir, "report.json");
        var json = ReportJson.Serialize(SampleReports.Known()).Replace("\"schemaVersion\": 1", $"\"schemaVersion\": {version}");
        File.WriteAllText(file, json);

        var e = Assert.Throws<ReportFormatException>(() => ReportJson.Read(file));

        Assert.Contains($"schema version {version}", e.Message, StringComparison.Ordinal);
        Assert.Contains(age, e.Message, StringComparison.Ordinal);
        Assert.Contains(file, e.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("{\"name\": 1}", "not a FleetSim report")]
    [InlineData("[1,2]", "not a FleetSim report")]
    [InlineData("{\"schemaVersion\": 1, \"scenario\": ", "invalid report JSON at line 1")]
    public void Malformed_files_get_a_specific_message(string content, string expected)
    {
        var file = Path.Combine(_dir, "bad.json");
        File.WriteAllText(file, content);

        var e = Assert.Throws<ReportFormatException>(() => ReportJson.Read(file));

        Assert.Contains(expected, e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void A_missing_file_gets_a_specific_message()
    {
        var file = Path.Combine(_dir, "absent.json");

        var e = Assert.Throws<ReportFormatException>(() => ReportJson.Read(file));

        Assert.Contains("cannot read the report file", e.Message, StringComparison.Ordinal);
    }
}
