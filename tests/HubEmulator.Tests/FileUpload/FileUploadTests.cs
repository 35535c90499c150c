using System.Net;
using System.Text;
using System.Text.Json.Nodes;
using FleetSim.HubEmulator.Registry;

namespace FleetSim.HubEmulator.Tests.FileUpload;

public sealed class FileUploadTests
{
    [Fact]
    public async Task Storage_info_upload_and_notification_work_end_to_end()
    {
        await using var hub = await TestHub.StartAsync();
        var device = hub.Hub.Registry.Add("d1");

        var info = await StartUploadAsync(hub, device, "logs/today.txt");
        Assert.Equal("fleetsim-uploads", (string)info["containerName"]!);
        Assert.Equal("d1/logs/today.txt", (string)info["blobName"]!);
        Assert.Equal($"localhost:{hub.Hub.HttpsPort}", (string)info["hostName"]!);

        var url = $"https://{info["hostName"]}/{info["containerName"]}/{info["blobName"]}{info["sasToken"]}";
        using var put = new HttpRequestMessage(HttpMethod.Put, url) { Content = new StringContent("file body") };
        put.Headers.TryAddWithoutValidation("x-ms-blob-type", "BlockBlob");
        using var uploaded = await hub.Http.SendAsync(put);
        Assert.Equal(HttpStatusCode.Created, uploaded.StatusCode);

        using var notify = DeviceRequest(hub, device, HttpMethod.Post, "devices/d1/files/notifications",
            $$"""{"correlationId":"{{info["correlationId"]}}","isSuccess":true,"statusCode":200,"statusDescription":"done"}""");
        using var notified = await hub.Http.SendAsync(notify);
        Assert.Equal(HttpStatusCode.NoContent, notified.StatusCode);

        var record = hub.Hub.FileUploads.Find((string)info["correlationId"]!)!;
        Assert.True(record.Notified);
        Assert.True(record.IsSuccess);
        Assert.Equal("file body", await File.ReadAllTextAsync(record.FilePath));
    }

    [Fact]
    public async Task Staged_block_upload_and_node_style_notification_are_supported()
    {
        await using var hub = await TestHub.StartAsync();
        var device = hub.Hub.Registry.Add("d1");
        var info = await StartUploadAsync(hub, device, "big.bin");
        var baseUrl = $"https://{info["hostName"]}/{info["containerName"]}/{info["blobName"]}{info["sasToken"]}";

        foreach (var (id, text) in new[] { ("YQ==", "hello "), ("Yg==", "world") })
        {
            using var block = await hub.Http.PutAsync($"{baseUrl}&comp=block&blockid={Uri.EscapeDataString(id)}", new StringContent(text));
            Assert.Equal(HttpStatusCode.Created, block.StatusCode);
        }

        using var list = await hub.Http.PutAsync($"{baseUrl}&comp=blocklist",
            new StringContent("""<?xml version="1.0" encoding="utf-8"?><BlockList><Latest>YQ==</Latest><Latest>Yg==</Latest></BlockList>""", Encoding.UTF8, "application/xml"));
        Assert.Equal(HttpStatusCode.Created, list.StatusCode);

        var correlationId = (string)info["correlationId"]!;
        using var notify = DeviceRequest(hub, device, HttpMethod.Post, $"devices/d1/files/notifications/{Uri.EscapeDataString(correlationId)}",
            """{"isSuccess":false,"statusCode":500,"statusDescription":"failed"}""");
        using var notified = await hub.Http.SendAsync(notify);
        Assert.Equal(HttpStatusCode.NoContent, notified.StatusCode);

        var record = hub.Hub.FileUploads.Find(correlationId)!;
        Assert.Equal("hello world", await File.ReadAllTextAsync(record.FilePath));
        Assert.False(record.IsSuccess);
        Assert.Equal(500, record.StatusCode);
    }

    [Fact]
    public async Task Blob_put_without_a_valid_sas_is_403_and_file_calls_need_the_device_token()
    {
        await using var hub = await TestHub.StartAsync();
        var device = hub.Hub.Registry.Add("d1");
        var info = await StartUploadAsync(hub, device, "a.txt");

        using var forged = await hub.Http.PutAsync($"https://{info["hostName"]}/fleetsim-uploads/d1/a.txt?se=99999999999&sig=forged", new StringContent("x"));
        Assert.Equal(HttpStatusCode.Forbidden, forged.StatusCode);

        using var serviceTokenRequest = hub.ServiceRequest(HttpMethod.Post, "devices/d1/files", """{"blobName":"b.txt"}""");
        using var refused = await hub.Http.SendAsync(serviceTokenRequest);
        Assert.Equal(HttpStatusCode.Unauthorized, refused.StatusCode);
    }

    [Fact]
    public async Task A_disabled_device_cannot_start_an_upload_with_a_valid_token()
    {
        await using var hub = await TestHub.StartAsync();
        var device = hub.Hub.Registry.Add("d1");
        hub.Hub.Registry.Put(new DeviceSpec("d1", Enabled: false, PrimaryKey: device.PrimaryKey, SecondaryKey: device.SecondaryKey), "*");

        using var request = DeviceRequest(hub, device, HttpMethod.Post, "devices/d1/files", """{"blobName":"x.txt"}""");
        using var response = await hub.Http.SendAsync(request);

        Assert.Equal(HttpStatusCode.Unauthorized, response.StatusCode);
        Assert.Empty(hub.Hub.FileUploads.All());
    }

    [Fact]
    public async Task A_40_MB_blob_streams_past_Kestrel_s_default_limit_and_older_blobs_keep_only_length_and_digest()
    {
        await using var hub = await TestHub.StartAsync(o => o.KeptBlobs = 1);
        var device = hub.Hub.Registry.Add("d1");
        const long size = 40L * 1024 * 1024; // over Kestrel's 30 MB default body limit
        var big = await StartUploadAsync(hub, device, "big.bin");

        using var put = new HttpRequestMessage(HttpMethod.Put, BlobUrl(big)) { Content = new StreamContent(new PatternStream(size)) };
        put.Content.Headers.ContentLength = size;
        using var uploaded = await hub.Http.SendAsync(put);

        Assert.Equal(HttpStatusCode.Created, uploaded.StatusCode);
        var record = hub.Hub.FileUploads.Find((string)big["correlationId"]!)!;
        Assert.Equal(size, record.Length);
        Assert.Equal(size, new FileInfo(record.FilePath).Length);
        using (var expected = new PatternStream(size))
        {
            Assert.Equal(Convert.ToHexStringLower(await System.Security.Cryptography.SHA256.HashDataAsync(expected)), record.Sha256);
        }

        var small = await StartUploadAsync(hub, device, "small.txt");
        using var second = await hub.Http.PutAsync(BlobUrl(small), new StringContent("small"));
        Assert.Equal(HttpStatusCode.Created, second.StatusCode);

        Assert.False(File.Exists(record.FilePath)); // only the newest blob keeps its bytes
        Assert.Equal(size, hub.Hub.FileUploads.Find((string)big["correlationId"]!)!.Length);
        Assert.Equal("small", await File.ReadAllTextAsync(hub.Hub.FileUploads.Find((string)small["correlationId"]!)!.FilePath));
    }

    [Fact]
    public async Task Upload_records_are_capped_oldest_first()
    {
        await using var hub = await TestHub.StartAsync(o => o.KeptUploadRecords = 2);
        var device = hub.Hub.Registry.Add("d1");

        var first = await StartUploadAsync(hub, device, "1.txt");
        await StartUploadAsync(hub, device, "2.txt");
        await StartUploadAsync(hub, device, "3.txt");

        Assert.Equal(2, hub.Hub.FileUploads.All().Count);
        Assert.Null(hub.Hub.FileUploads.Find((string)first["correlationId"]!));
    }

    [Fact]
    public async Task Staged_blocks_live_in_files_until_the_block_list_commits_them()
    {
        await using var hub = await TestHub.StartAsync();
        var device = hub.Hub.Registry.Add("d1");
        var info = await StartUploadAsync(hub, device, "staged.txt");
        var url = BlobUrl(info);

        foreach (var (id, text) in new[] { ("YQ==", "hello "), ("Yg==", "blocks") })
        {
            using var block = await hub.Http.PutAsync(url + "&comp=block&blockid=" + Uri.EscapeDataString(id), new StringContent(text));
            Assert.Equal(HttpStatusCode.Created, block.StatusCode);
        }

        Assert.Equal(2, Directory.GetFiles(Path.Combine(hub.Hub.FileUploads.BlobRoot, ".staged")).Length);
        using var commit = await hub.Http.PutAsync(url + "&comp=blocklist",
            new StringContent("<?xml version=\"1.0\" encoding=\"utf-8\"?><BlockList><Latest>YQ==</Latest><Latest>Yg==</Latest></BlockList>"));
        Assert.Equal(HttpStatusCode.Created, commit.StatusCode);

        Assert.Empty(Directory.GetFiles(Path.Combine(hub.Hub.FileUploads.BlobRoot, ".staged")));
        var record = hub.Hub.FileUploads.Find((string)info["correlationId"]!)!;
        Assert.Equal("hello blocks", await File.ReadAllTextAsync(record.FilePath));
        Assert.Equal(12, record.Length);
    }

    private static string BlobUrl(JsonNode info) => $"https://{info["hostName"]}/{info["containerName"]}/{info["blobName"]}{info["sasToken"]}";

    /// <summary>A large body produced on the fly (nothing the size of the upload is ever held in the test).</summary>
    private sealed class PatternStream(long length) : Stream
    {
        private long _position;

        public override bool CanRead => true;

        public override bool CanSeek => false;

        public override bool CanWrite => false;

        public override long Length => length;

        public override long Position { get => _position; set => throw new NotSupportedException(); }

        public override int Read(byte[] buffer, int offset, int count)
        {
            var n = (int)Math.Min(count, length - _position);
            for (var i = 0; i < n; i++)
            {
                buffer[offset + i] = (byte)((_position + i) * 31 % 251);
            }

            _position += n;
            return n;
        }

        public override void Flush()
        {
        }

        public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();

        public override void SetLength(long value) => throw new NotSupportedException();

        public override void Write(byte[] buffer, int offset, int count) => throw new NotSupportedException();
    }

    private static async Task<JsonNode> StartUploadAsync(TestHub hub, DeviceIdentity device, string blobName)
    {
        using var request = DeviceRequest(hub, device, HttpMethod.Post, "devices/d1/files", $$"""{"blobName":"{{blobName}}"}""");
        using var response = await hub.Http.SendAsync(request);
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        return JsonNode.Parse(await response.Content.ReadAsStringAsync())!;
    }

    private static HttpRequestMessage DeviceRequest(TestHub hub, DeviceIdentity device, HttpMethod method, string path, string json)
    {
        var request = new HttpRequestMessage(method, path + "?api-version=2021-04-12") { Content = new StringContent(json, Encoding.UTF8, "application/json") };
        request.Headers.TryAddWithoutValidation("Authorization", hub.DeviceToken(device));
        return request;
    }
}
