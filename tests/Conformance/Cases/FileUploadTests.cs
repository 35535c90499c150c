using FleetSim.Conformance.Tests.Harness;

namespace FleetSim.Conformance.Tests.Cases;

[Collection(ConformanceCollection.Name)]
public sealed class FileUploadTests(ConformanceFixture fixture)
{
    [Fact]
    public async Task UploadToBlob_stores_the_file_and_notifies_the_hub()
    {
        var device = await fixture.NewDeviceAsync("upload");
        var text = $"conformance upload {Guid.NewGuid()}\nsecond line";
        var env = fixture.Environment();
        env["FLEETSIM_DEVICE_CS"] = device.ConnectionString;
        env["FLEETSIM_BLOB_NAME"] = "logs/conformance.txt";
        env["FLEETSIM_BLOB_TEXT"] = text;

        var result = await fixture.RunAsync("file-upload.js", env, TimeSpan.FromSeconds(45));

        result.AssertPassed();
        // Hub side: the blob is a real file in the hub's data folder with exactly the uploaded text.
        await HubAssert.BlobStoredAsync(fixture, "conformance.txt", text);
    }
}
