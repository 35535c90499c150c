using System.Collections.Concurrent;
using System.Net;
using System.Text.Json.Nodes;
using Akka.Actor;
using FleetSim.DeviceActors.Files;
using FleetSim.Protocol;
using FleetSim.Metrics;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace FleetSim.DeviceActors.Tests.Integration;

/// <summary>File upload over real HTTPS (a local Kestrel playing the hub's file endpoints and the blob store).</summary>
public sealed class FileUploadTests : Akka.TestKit.Xunit2.TestKit, IAsyncLifetime
{
    private const string Key = "c2VjcmV0LWtleS1mb3ItdGVzdHMtMDEyMzQ1Njc4OQ==";
    private readonly TestCertificates _certificates = TestCertificates.Create();
    private readonly FleetMetrics _metrics = new();
    private readonly ConcurrentQueue<string> _requests = new();
    private TlsBroker _broker = null!;
    private WebApplication _web = null!;
    private int _httpsPort;

    public FileUploadTests() : base("akka.loglevel = WARNING")
    {
    }

    public async Task InitializeAsync()
    {
        _broker = await TlsBroker.StartAsync(_certificates);
        var builder = WebApplication.CreateSlimBuilder();
        builder.Logging.ClearProviders();
        builder.WebHost.ConfigureKestrel(k => k.Listen(IPAddress.Loopback, 0, l => l.UseHttps(_certificates.Server)));
        _web = builder.Build();
        _web.MapPost("/devices/{id}/files", async (string id, HttpRequest request) =>
        {
            var authorized = SasToken.TryParse(request.Headers.Authorization.ToString(), out var token, out _)
                && token.IsSignatureValid(Key) && token.Covers("localhost", $"devices/{id}");
            var body = await JsonNode.ParseAsync(request.Body);
            _requests.Enqueue($"storage {id} {body!["blobName"]} {(authorized ? "authorized" : "unauthorized")}");
            return Results.Json(new
            {
                correlationId = "corr-1",
                hostName = $"localhost:{_httpsPort}",
                containerName = "blobs",
                blobName = body["blobName"]!.GetValue<string>(),
                sasToken = "?sv=x&sig=y",
            });
        });
        _web.MapPut("/blobs/{name}", async (string name, HttpRequest request) =>
        {
            using var buffer = new MemoryStream();
            await request.Body.CopyToAsync(buffer);
            _requests.Enqueue($"blob {name} {buffer.Length} {request.Headers["x-ms-blob-type"]} {request.Query["sig"]}");
            return Results.StatusCode(201);
        });
        _web.MapPost("/devices/{id}/files/notifications", async (string id, HttpRequest request) =>
        {
            var body = await JsonNode.ParseAsync(request.Body);
            _requests.Enqueue($"notify {id} {body!["correlationId"]} {body["isSuccess"]} {body["statusCode"]}");
            return Results.NoContent();
        });
        await _web.StartAsync();
        var address = _web.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.Single();
        _httpsPort = new Uri(address).Port;
    }

    public async Task DisposeAsync()
    {
        await _web.StopAsync();
        await _web.DisposeAsync();
        await _broker.DisposeAsync();
        _certificates.Dispose();
    }

    [Fact]
    public void A_device_uploads_a_file_in_three_steps_and_the_latency_is_recorded()
    {
        var options = new DeviceOptions
        {
            HostName = "localhost",
            EndpointPort = _broker.Port,
            TrustedCa = _certificates.Ca,
            Telemetry = null,
            FileUpload = new FileUploadOptions { Interval = TimeSpan.FromMilliseconds(300), SizeBytes = 2048, HttpsPort = _httpsPort },
        };
        var group = new DeviceGroup(options, new DeviceMetrics(_metrics));
        var device = ChildActorOf(DeviceActor.Props(new DeviceIdentity("d1", 0, Key), group));
        device.Tell(new DeviceActor.Start(options.Time.GetTimestamp()));

        AwaitCondition(() => _metrics.Operation(Operations.FileUpload).OkCount >= 1, TimeSpan.FromSeconds(15));
        var steps = _requests.Take(3).ToArray();
        Assert.Equal("storage d1 fleetsim-d1-1.bin authorized", steps[0]);
        Assert.Equal("blob fleetsim-d1-1.bin 2048 BlockBlob y", steps[1]);
        Assert.Equal("notify d1 corr-1 true 201", steps[2]);
        Assert.Equal(0, _metrics.Operation(Operations.FileUpload).FailedCount);
        device.Tell(PoisonPill.Instance);
        group.Dispose();
    }
}
