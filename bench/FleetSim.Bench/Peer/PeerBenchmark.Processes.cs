using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Net.Sockets;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using FleetSim.Protocol;

namespace FleetSim.Bench.Peer;

/// <summary>The peer benchmark's plumbing: building and starting child processes, the hub process and its REST calls.</summary>
public static partial class PeerBenchmark
{
    private static ProcessStartInfo SelfStart()
    {
        var self = Environment.ProcessPath ?? "dotnet";
        var start = new ProcessStartInfo(self);
        if (Path.GetFileNameWithoutExtension(self) == "dotnet")
            start.ArgumentList.Add(typeof(PeerBenchmark).Assembly.Location);
        return start;
    }

    internal static string RepoRoot()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
        {
            if (File.Exists(Path.Combine(dir.FullName, "FleetSim.sln")))
                return dir.FullName;
        }

        throw new InvalidOperationException("FleetSim.sln not found above " + AppContext.BaseDirectory);
    }

    internal static async Task<string> BuildFleetSimAsync(string root)
    {
        var project = Path.Combine(root, "src", "Simulator", "FleetSim.Simulator.csproj");
        Console.WriteLine("building src/Simulator (Release) ...");
        await RunToolAsync("dotnet", root, TimeSpan.FromMinutes(30), "build", project, "-c", "Release", "-v", "q", "-nologo");
        var dll = Path.Combine(root, "src", "Simulator", "bin", "Release", "net10.0", "fleetsim.dll");
        return File.Exists(dll) ? dll : throw new InvalidOperationException($"{dll} was not built");
    }

    private static async Task EnsureNodeModulesAsync(string nodeDir)
    {
        if (Directory.Exists(Path.Combine(nodeDir, "node_modules", "azure-iot-device-mqtt")))
            return;
        Console.WriteLine("npm ci in bench/peer ...");
        await RunToolAsync("npm", nodeDir, TimeSpan.FromMinutes(10), "ci", "--no-audit", "--no-fund", "--loglevel=error");
    }

    private static async Task RunToolAsync(string tool, string directory, TimeSpan timeout, params string[] args)
    {
        var start = new ProcessStartInfo(tool) { WorkingDirectory = directory, RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        foreach (var a in args)
            start.ArgumentList.Add(a);
        using var process = Process.Start(start) ?? throw new InvalidOperationException($"could not start {tool}");
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEndAsync();
        using var cts = new CancellationTokenSource(timeout);
        try
        {
            await process.WaitForExitAsync(cts.Token);
        }
        catch (OperationCanceledException)
        {
            Kill(process);
            throw new InvalidOperationException($"{tool} {string.Join(' ', args)} did not finish within {timeout.TotalMinutes:0} minutes");
        }

        if (process.ExitCode != 0)
            throw new InvalidOperationException($"{tool} {string.Join(' ', args)} failed ({process.ExitCode}):\n{await stdout}\n{await stderr}");
    }

    internal static async Task<Hub> StartHubAsync(string fleetsimDll)
    {
        var work = Directory.CreateTempSubdirectory("fleetsim-peer-").FullName;
        var stateFile = Path.Combine(work, "hub-state.json");
        // 8883 as the SDKs expect when it is free (else any free port; fleet.js then forwards 8883 inside node).
        var mqttPort = PortFree(8883) ? 8883 : 0;
        var start = new ProcessStartInfo("dotnet") { WorkingDirectory = work, RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        foreach (var a in new[] { fleetsimDll, "hub", "--host-name", "localhost", "--bind", "127.0.0.1", "--mqtt-port", mqttPort.ToString(CultureInfo.InvariantCulture),
                     "--https-port", "0", "--state-file", stateFile, "--data-dir", Path.Combine(work, "data") })
            start.ArgumentList.Add(a);
        var process = Process.Start(start) ?? throw new InvalidOperationException("could not start fleetsim hub");
        process.OutputDataReceived += (_, _) => { };
        process.ErrorDataReceived += (_, _) => { };
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        var deadline = Stopwatch.StartNew();
        while (true)
        {
            try
            {
                var state = JsonNode.Parse(await File.ReadAllTextAsync(stateFile));
                if (state?["serviceConnectionString"]?.GetValue<string>() is { Length: > 0 } cs && state["mqttPort"]?.GetValue<int>() is > 0 and var mqtt)
                {
                    return new Hub(process, state["hostName"]!.GetValue<string>(), mqtt, state["httpsPort"]!.GetValue<int>(),
                        state["caCertificatePath"]!.GetValue<string>(), ServiceConnectionString.Parse(cs), work);
                }
            }
            catch (Exception e) when (e is IOException or JsonException)
            {
                // not written yet, or half written
            }

            if (process.HasExited || deadline.Elapsed > TimeSpan.FromMinutes(2))
            {
                Kill(process);
                throw new InvalidOperationException($"fleetsim hub did not start (exited: {process.HasExited})");
            }

            await Task.Delay(100); // polling the state file the hub writes once it listens
        }
    }

    private static bool PortFree(int port)
    {
        try
        {
            var listener = new TcpListener(IPAddress.Loopback, port);
            listener.Start();
            listener.Stop();
            return true;
        }
        catch (SocketException)
        {
            return false;
        }
    }

    internal static HttpClient HubClient(Hub hub)
    {
        var ca = X509Certificate2.CreateFromPem(File.ReadAllText(hub.CaPath));
        var handler = new HttpClientHandler
        {
            ServerCertificateCustomValidationCallback = (_, cert, _, _) =>
            {
                if (cert is null)
                    return false;
                using var chain = new X509Chain();
                chain.ChainPolicy.TrustMode = X509ChainTrustMode.CustomRootTrust;
                chain.ChainPolicy.CustomTrustStore.Add(ca);
                chain.ChainPolicy.RevocationMode = X509RevocationMode.NoCheck;
                return chain.Build(cert);
            },
        };
        return new HttpClient(handler) { BaseAddress = new Uri($"https://127.0.0.1:{hub.HttpsPort}"), Timeout = TimeSpan.FromSeconds(60) };
    }

    private static async Task BulkAsync(HttpClient http, Hub hub, List<JsonObject> operations)
    {
        foreach (var chunk in operations.Chunk(100))
        {
            var body = new JsonArray(chunk.Select(JsonNode? (o) => o).ToArray()).ToJsonString();
            await PostAsync(http, hub, "/devices", body);
        }
    }

    private static async Task PostAsync(HttpClient http, Hub hub, string path, string body)
    {
        using var request = new HttpRequestMessage(HttpMethod.Post, path + "?api-version=2021-04-12")
        {
            Content = new StringContent(body, Encoding.UTF8, "application/json"),
        };
        request.Headers.TryAddWithoutValidation("Authorization",
            SasToken.Create(hub.Service.HostName, hub.Service.SharedAccessKey, DateTimeOffset.UtcNow.AddHours(1), hub.Service.SharedAccessKeyName));
        using var response = await http.SendAsync(request);
        if (!response.IsSuccessStatusCode)
            throw new InvalidOperationException($"POST {path}: {(int)response.StatusCode} {Redaction.Redact(await response.Content.ReadAsStringAsync())}");
    }

    internal static void Kill(Process process)
    {
        try
        {
            if (!process.HasExited)
                process.Kill(entireProcessTree: true);
        }
        catch (InvalidOperationException)
        {
        }
    }

    internal static void TryDelete(string path)
    {
        try
        {
            if (Directory.Exists(path))
                Directory.Delete(path, recursive: true);
            else
                File.Delete(path);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
        }
    }
}
