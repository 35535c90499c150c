using FleetSim.Protocol;

namespace FleetSim.Protocol.Tests;

public class ConnectionStringTests
{
    private const string Key = "c2VjcmV0LWRldmljZS1rZXktZm9yLWZsZWV0c2ltLXRlc3Q=";

    [Fact]
    public void Device_connection_string_parses_keys_that_end_in_equals_signs()
    {
        var cs = DeviceConnectionString.Parse($"HostName=h.azure-devices.net;DeviceId=d1;SharedAccessKey={Key}");
        Assert.Equal("h.azure-devices.net", cs.HostName);
        Assert.Equal("d1", cs.DeviceId);
        Assert.Equal(Key, cs.SharedAccessKey);
        Assert.Equal("d1", cs.ClientId);
        Assert.Equal("h.azure-devices.net/devices/d1", cs.SasResource);
    }

    [Fact]
    public void Device_connection_string_with_module_and_gateway()
    {
        var cs = DeviceConnectionString.Parse($"hostname=h;deviceid=d1;ModuleId=m1;SharedAccessKey={Key};GatewayHostName=edge");
        Assert.Equal("d1/m1", cs.ClientId);
        Assert.Equal("edge", cs.GatewayHostName);
        Assert.Equal("h/devices/d1/modules/m1", cs.SasResource);
    }

    [Fact]
    public void Device_connection_string_round_trips_and_redacts()
    {
        var text = $"HostName=h;DeviceId=d1;SharedAccessKey={Key}";
        var cs = DeviceConnectionString.Parse(text);
        Assert.Equal(text, cs.ToSecretString());
        Assert.DoesNotContain(Key, cs.ToString());
        Assert.Contains("SharedAccessKey=***", cs.ToString());
    }

    [Theory]
    [InlineData("", "empty")]
    [InlineData("DeviceId=d1;SharedAccessKey=" + Key, "no HostName")]
    [InlineData("HostName=h;SharedAccessKey=" + Key, "no DeviceId")]
    [InlineData("HostName=h;DeviceId=d1", "needs SharedAccessKey")]
    [InlineData("HostName=h;DeviceId=d1;SharedAccessKey=%%%", "not base64")]
    [InlineData("HostName=h;DeviceId=d1;SharedAccessKey=" + Key + ";Color=blue", "unknown part 'Color'")]
    [InlineData("HostName=h;HostName=g;DeviceId=d1;x509=true", "twice")]
    [InlineData("HostName=h;DeviceId", "without 'Name=value'")]
    public void Malformed_device_connection_strings_are_rejected(string text, string reason)
    {
        Assert.False(DeviceConnectionString.TryParse(text, out _, out var error));
        Assert.Contains(reason, error);
    }

    [Fact]
    public void Service_connection_string_parses_and_redacts()
    {
        var cs = ServiceConnectionString.Parse($"HostName=h;SharedAccessKeyName=iothubowner;SharedAccessKey={Key}");
        Assert.Equal("iothubowner", cs.SharedAccessKeyName);
        Assert.DoesNotContain(Key, cs.ToString());
        Assert.Equal($"HostName=h;SharedAccessKeyName=iothubowner;SharedAccessKey={Key}", cs.ToSecretString());
    }

    [Fact]
    public void Service_token_from_connection_string_is_valid_for_the_hub()
    {
        var cs = ServiceConnectionString.Parse($"HostName=h;SharedAccessKeyName=iothubowner;SharedAccessKey={Key}");
        var now = DateTimeOffset.FromUnixTimeSeconds(1_800_000_000);
        var token = SasToken.Parse(cs.CreateSasToken(TimeSpan.FromHours(1), now));
        Assert.True(token.IsSignatureValid(Key));
        Assert.Equal("iothubowner", token.KeyName);
        Assert.Equal(now.AddHours(1), token.ExpiresAt);
    }

    [Theory]
    [InlineData("HostName=h;DeviceId=d;SharedAccessKey=" + Key, "device connection string")]
    [InlineData("HostName=h;SharedAccessKey=" + Key, "no SharedAccessKeyName")]
    [InlineData("SharedAccessKeyName=x;SharedAccessKey=" + Key, "no HostName")]
    [InlineData("HostName=h;SharedAccessKeyName=x", "no SharedAccessKey")]
    public void Malformed_service_connection_strings_are_rejected(string text, string reason)
    {
        Assert.False(ServiceConnectionString.TryParse(text, out _, out var error));
        Assert.Contains(reason, error);
    }

    [Fact]
    public void Redaction_removes_keys_signatures_and_tokens_from_free_text()
    {
        var text = $"connecting with HostName=h;DeviceId=d;SharedAccessKey={Key} and " +
                   "Authorization: SharedAccessSignature sr=h&sig=M1yOEwGtMYcvfcn9Mj%2F&se=1 and {\"primaryKey\":\"" + Key + "\"}";
        var redacted = Redaction.Redact(text);
        Assert.DoesNotContain(Key, redacted);
        Assert.DoesNotContain("M1yOEwGt", redacted);
        Assert.Contains("DeviceId=d", redacted);
    }

    [Fact]
    public void Redaction_masks_a_sas_token_inside_a_connection_string()
    {
        var redacted = Redaction.Redact("HostName=h;DeviceId=d;SharedAccessSignature=SharedAccessSignature sr=h%2Fdevices%2Fd&sig=abc&se=1");
        Assert.Equal("HostName=h;DeviceId=d;SharedAccessSignature=***", redacted);
    }

    [Theory]
    [InlineData("proxy: {url: http://p:3128, username: u, password: hunter2}", "proxy: {url: http://p:3128, username: u, password: ***}")]
    [InlineData("    password: \"hunter2\"", "    password: \"***\"")]
    [InlineData("{\"password\":\"hunter2\"}", "{\"password\":\"***\"}")]
    [InlineData("Proxy-Authorization: Basic dTpodW50ZXIy", "Proxy-Authorization: Basic ***")]
    public void Redaction_masks_proxy_passwords_and_basic_credentials(string text, string expected) =>
        Assert.Equal(expected, Redaction.Redact(text));

    [Theory]
    [InlineData("hostname=h;sharedaccesskeyname=owner;sharedaccesskey=S3CRET", "hostname=h;sharedaccesskeyname=owner;sharedaccesskey=***")]
    [InlineData("HostName=h; SHAREDACCESSKEY = S3CRET ;DeviceId=d", "HostName=h; SHAREDACCESSKEY = *** ;DeviceId=d")]
    [InlineData("HostName=h;DeviceId=d;sharedaccesssignature=SharedAccessSignature sr=h&SIG=S3CRET&se=1", "HostName=h;DeviceId=d;sharedaccesssignature=***")]
    [InlineData("{\"PRIMARYKEY\": \"S3CRET\"}", "{\"PRIMARYKEY\": \"***\"}")]
    [InlineData("proxy: {url: http://p:3128, username: u, Password: two words S3CRET}", "proxy: {url: http://p:3128, username: u, Password: ***}")]
    [InlineData("    PASSWORD: 'S3CRET with spaces'", "    PASSWORD: '***'")]
    [InlineData("Proxy=x;password = S3CRET;", "Proxy=x;password = ***;")]
    [InlineData("      password: |\n        S3CRET\n        more S3CRET\n      next: 1", "      password: |\n        ***\n        ***\n      next: 1")]
    [InlineData("  password: >-\r\n    S3CRET\r\n  other: x", "  password: >-\r\n    ***\r\n  other: x")]
    public void Redaction_matches_every_spelling_the_parsers_accept(string text, string expected)
    {
        var redacted = Redaction.Redact(text);
        Assert.DoesNotContain("S3CRET", redacted);
        Assert.Equal(expected, redacted);
    }

    [Fact]
    public void Connection_strings_spelled_oddly_still_parse_so_redaction_must_cover_them()
    {
        Assert.True(ServiceConnectionString.TryParse("hostname=h ; sharedaccesskeyname = owner ; sharedaccesskey = " + Key, out var parsed, out var error), error);
        Assert.Equal("owner", parsed!.SharedAccessKeyName);
        Assert.DoesNotContain(Key, Redaction.Redact("hostname=h ; sharedaccesskeyname = owner ; sharedaccesskey = " + Key));
    }
}
