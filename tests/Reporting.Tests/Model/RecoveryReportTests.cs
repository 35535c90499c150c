namespace FleetSim.Reporting.Tests.Model;

/// <summary>Recovery and convergence in report.json, report.html and summary.md (issue 12, items 3 and 4).</summary>
public sealed class RecoveryReportTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("fleetsim-recovery-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    private static RunReport WithRecovery()
    {
        var recovery = new FaultRecovery(3, 2, 2000, 5000, 5000, null, 30, 9, 5, 1, [new StormPoint(1, 4), new StormPoint(2, 9)],
            new Dictionary<string, long> { ["network"] = 3 }, 6, 2, 1, 0, 0, 0, 1, ["<dev-3>"]);
        return SampleReports.Known() with
        {
            Faults = [new FaultRecord(10, "dropped 3 connections", true) { Recovery = recovery }, new FaultRecord(20, "failed: nope", false)],
            Recovery = new RecoverySummary(1, 3, 2, 2000, 5000, 5000, 1, ["<dev-3>"], 0),
            Convergence = new ConvergenceSection(9, 1, 1, 0, 1, [new TwinOffender("dev-7", false, 4, 4, "reported properties at the hub differ from what the device last reported")], ["dev-9"]),
        };
    }

    [Fact]
    public void Recovery_and_convergence_round_trip_through_report_json()
    {
        var report = WithRecovery();
        var path = Path.Combine(_dir, "report.json");
        ReportJson.Write(report, path);

        var back = ReportJson.Read(path);
        var json = File.ReadAllText(path);

        Assert.Contains("\"neverReconnectedIds\"", json, StringComparison.Ordinal);
        Assert.Equal(report.Faults[0].Recovery!.Storm, back.Faults[0].Recovery!.Storm);
        Assert.Equal(3, back.Faults[0].Recovery!.RetriesByReason["network"]);
        Assert.Null(back.Faults[1].Recovery);
        Assert.Equal(report.Recovery!.NeverReconnectedIds, back.Recovery!.NeverReconnectedIds);
        Assert.Equal("dev-7", back.Convergence!.Offenders.Single().DeviceId);
    }

    [Fact]
    public void The_html_report_has_a_recovery_row_per_fault_the_storm_chart_and_the_convergence_offenders()
    {
        var html = HtmlReportWriter.Render(WithRecovery());

        Assert.Contains("<h2>Recovery after faults</h2>", html, StringComparison.Ordinal);
        Assert.Contains("Reconnect storms: connect attempts per second", html, StringComparison.Ordinal);
        Assert.Contains("hub connect limit", html, StringComparison.Ordinal);
        Assert.Contains("&lt;dev-3&gt;", html, StringComparison.Ordinal); // device ids are encoded
        Assert.DoesNotContain("<dev-3>", html, StringComparison.Ordinal);
        Assert.Contains("not whole", html, StringComparison.Ordinal);
        Assert.Contains("<h2>Twin convergence at the end</h2>", html, StringComparison.Ordinal);
        Assert.Contains("dev-7", html, StringComparison.Ordinal);
    }

    [Fact]
    public void Summary_md_has_the_recovery_rows_and_the_convergence_line()
    {
        var md = MarkdownReportWriter.Render(WithRecovery());

        Assert.Contains("| 10 | 3 | 2 | 2 | 5 | 5 | **not whole** | 9 (5) | 6 / 2 / 1 | 0 / 0 | **1** |", md, StringComparison.Ordinal);
        Assert.Contains("1 never reconnected: &lt;dev-3&gt;.", md, StringComparison.Ordinal);
        Assert.Contains("**1 diverged**", md, StringComparison.Ordinal);
        Assert.Contains("- dev-7: reported properties", md, StringComparison.Ordinal);
    }

    [Fact]
    public void A_run_without_faults_or_twins_has_neither_section()
    {
        var report = SampleReports.Known();

        Assert.Null(report.Recovery);
        Assert.Null(report.Convergence);
        Assert.DoesNotContain("Recovery after faults", HtmlReportWriter.Render(report), StringComparison.Ordinal);
        Assert.DoesNotContain("Twin convergence", MarkdownReportWriter.Render(report), StringComparison.Ordinal);
    }
}
