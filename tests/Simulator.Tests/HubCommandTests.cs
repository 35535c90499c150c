using System.Diagnostics;
using System.Text.Json.Nodes;
using FleetSim.Protocol;

namespace FleetSim.Simulator.Tests;

public sealed class HubCommandTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("fleetsim-hub-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    [Fact]
    public async Task Hub_writes_its_state_file_once_listening_and_exits_cleanly_on_sigterm()
    {
        var stateFile = Path.Combine(_dir, "state.json");
        var start = new ProcessStartInfo("dotnet") { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        foreach (var a in new[] { Fleetsim.Dll, "hub", "--mqtt-port", "0", "--https-port", "0", "--state-file", stateFile, "--data-dir", _dir })
            start.ArgumentList.Add(a);
        using var process = Process.Start(start)!;
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEndAsync();
        try
        {
            var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(60);
            while (!File.Exists(stateFile))
            {
                Assert.False(process.HasExited, "the hub exited: " + await stderr);
                Assert.True(DateTime.UtcNow < deadline, "no state file within 60 s");
                await Task.Delay(50);
            }

            var state = JsonNode.Parse(await File.ReadAllTextAsync(stateFile))!;
            var connection = ServiceConnectionString.Parse(state["serviceConnectionString"]!.GetValue<string>());
            Assert.Equal("localhost", state["hostName"]!.GetValue<string>());
            Assert.Equal("localhost", connection.HostName);
            Assert.True(File.Exists(state["caCertificatePath"]!.GetValue<string>()));
            var mqttPort = state["mqttPort"]!.GetValue<int>();
            Assert.InRange(mqttPort, 1, 65535);
            Assert.InRange(state["httpsPort"]!.GetValue<int>(), 1, 65535);

            using var probe = new System.Net.Sockets.TcpClient();
            await probe.ConnectAsync("127.0.0.1", mqttPort); // it really listens
        }
        finally
        {
            if (!process.HasExited)
            {
                using var kill = Process.Start("kill", ["-TERM", process.Id.ToString(System.Globalization.CultureInfo.InvariantCulture)]);
                await kill.WaitForExitAsync();
            }
        }

        using var cts = new CancellationTokenSource(TimeSpan.FromSeconds(30));
        await process.WaitForExitAsync(cts.Token);
        Assert.Equal(0, process.ExitCode);
        var printed = await stdout;
        Assert.Contains("SharedAccessKey=***", printed);
        Assert.DoesNotContain("   at ", await stderr);
    }
}
