using FleetSim.Protocol;

namespace FleetSim.Conformance.Tests.Harness;

[CollectionDefinition(Name)]
public sealed class ConformanceCollection : ICollectionFixture<ConformanceFixture>
{
    public const string Name = "conformance";
}

/// <summary>
/// One `fleetsim hub` child process and one installed Node project for the whole test run. Each case creates its
/// own devices, so cases do not see each other's state.
/// </summary>
public sealed class ConformanceFixture : IAsyncLifetime
{
    private static readonly TimeSpan HubStartTimeout = TimeSpan.FromSeconds(60);
    private static readonly TimeSpan NpmTimeout = TimeSpan.FromSeconds(150);

    private HubProcess? _hub;
    private HubServiceApi? _api;

    public HubProcess Hub => _hub ?? throw new InvalidOperationException("the fixture is not initialized");

    public HubServiceApi Api => _api ?? throw new InvalidOperationException("the fixture is not initialized");

    public HubState State => Hub.State;

    public string NodeDirectory { get; } = TestPaths.NodeDirectory;

    public async Task InitializeAsync()
    {
        var npm = NodeProject.EnsureInstalledAsync(NodeDirectory, NpmTimeout);
        var hub = HubProcess.StartAsync(TestPaths.FleetSimDll, HubStartTimeout);
        try
        {
            await Task.WhenAll(npm, hub);
        }
        catch
        {
            if (hub.IsCompletedSuccessfully)
            {
                await hub.Result.DisposeAsync();
            }

            throw;
        }

        _hub = hub.Result;
        _api = new HubServiceApi(_hub.State);
    }

    public async Task DisposeAsync()
    {
        _api?.Dispose();
        if (_hub is not null)
        {
            await _hub.DisposeAsync();
        }
    }

    /// <summary>A device registered through the hub's REST API, with a unique id.</summary>
    public async Task<TestDevice> NewDeviceAsync(string purpose)
    {
        var id = $"conf-{purpose}-{Guid.NewGuid().ToString("N")[..8]}";
        var key = await Api.CreateDeviceAsync(id);
        return new TestDevice(id, key, State);
    }

    /// <summary>
    /// The environment every script gets: the hub's service connection string and CA, the 443 -> HTTPS port map
    /// (lib/port-map.js), and NODE_EXTRA_CA_CERTS so the service SDK and the blob client trust the hub's CA.
    /// </summary>
    public Dictionary<string, string?> Environment(bool trustCaProcessWide = true) => new()
    {
        ["FLEETSIM_SERVICE_CS"] = State.ServiceConnectionString,
        ["FLEETSIM_CA_PATH"] = State.CaCertificatePath,
        ["FLEETSIM_PORT_MAP"] = $"{State.HostName}:443={State.HttpsPort}",
        ["NODE_EXTRA_CA_CERTS"] = trustCaProcessWide ? State.CaCertificatePath : null,
    };

    public Task<ScriptResult> RunAsync(string script, IDictionary<string, string?> environment, TimeSpan timeout, params string[] args) =>
        NodeScript.RunAsync(NodeDirectory, script, args, environment.AsReadOnly(), timeout);
}

/// <summary>A registered device and its connection strings (secrets: never print them; ToString is redacted).</summary>
public sealed record TestDevice(string Id, string Key, HubState Hub)
{
    /// <summary>MQTT over TLS: HostName for the username and SAS resource, GatewayHostName for the MQTT port.</summary>
    public string ConnectionString => $"HostName={Hub.HostName};DeviceId={Id};SharedAccessKey={Key};GatewayHostName={Hub.HostName}:{Hub.MqttPort}";

    /// <summary>
    /// Everything on the HTTPS port: HostName carries the port, the emulator tells MQTT from HTTP after TLS and
    /// accepts `host:port` in the username and SAS resource. With the Node SDKs this works for MQTT only (their
    /// HTTPS fails on a `:port` in HostName, see docs/conformance-notes.md section 1).
    /// </summary>
    public string ConnectionStringSinglePort => $"HostName={Hub.HostName}:{Hub.HttpsPort};DeviceId={Id};SharedAccessKey={Key}";

    /// <summary>For MqttWs, which ignores ports and goes to {HostName}:443.</summary>
    public string ConnectionStringWithoutGateway => $"HostName={Hub.HostName};DeviceId={Id};SharedAccessKey={Key}";

    public override string ToString() => Redaction.Redact($"TestDevice {Id} ({ConnectionString})");
}
