using FleetSim.Protocol;

namespace FleetSim.Protocol.Tests;

public class SasTokenTests
{
    // Key = base64("secret-device-key-for-fleetsim-test"). Expected tokens were computed independently with node:
    //   node -e 'const c=require("crypto"); const sr=encodeURIComponent("myhub.azure-devices.net/devices/dev-01");
    //            const sig=c.createHmac("sha256",Buffer.from(KEY,"base64")).update(sr+"\n"+1900000000).digest("base64");
    //            console.log("SharedAccessSignature sr="+sr+"&sig="+encodeURIComponent(sig)+"&se=1900000000")'
    private const string Key = "c2VjcmV0LWRldmljZS1rZXktZm9yLWZsZWV0c2ltLXRlc3Q=";
    private const string ExpectedDeviceToken =
        "SharedAccessSignature sr=myhub.azure-devices.net%2Fdevices%2Fdev-01&sig=M1yOEwGtMYcvfcn9Mj%2FfwctpmF40CjndOOtbSWoP3pM%3D&se=1900000000";
    private const string ExpectedServiceToken =
        "SharedAccessSignature sr=myhub.azure-devices.net&sig=PoeBGMK9Os9sgEcahBLyD4Lf4SndnucQ4Z%2BCjdGdo6E%3D&se=1900000000&skn=iothubowner";

    private static readonly DateTimeOffset Expiry = DateTimeOffset.FromUnixTimeSeconds(1900000000);

    [Fact]
    public void Device_token_matches_an_independently_computed_one()
    {
        Assert.Equal(ExpectedDeviceToken, SasToken.Create("myhub.azure-devices.net/devices/dev-01", Key, Expiry));
    }

    [Fact]
    public void Service_token_carries_the_policy_name()
    {
        Assert.Equal(ExpectedServiceToken, SasToken.Create("myhub.azure-devices.net", Key, Expiry, "iothubowner"));
    }

    [Fact]
    public void Parsed_token_exposes_decoded_fields_and_validates_its_signature()
    {
        var token = SasToken.Parse(ExpectedServiceToken);
        Assert.Equal("myhub.azure-devices.net", token.Resource);
        Assert.Equal("iothubowner", token.KeyName);
        Assert.Equal(Expiry, token.ExpiresAt);
        Assert.True(token.IsSignatureValid(Key));
        Assert.False(token.IsSignatureValid(Convert.ToBase64String("another key"u8.ToArray())));
    }

    [Fact]
    public void Fields_parse_in_any_order()
    {
        const string reordered = "SharedAccessSignature se=1900000000&sig=M1yOEwGtMYcvfcn9Mj%2FfwctpmF40CjndOOtbSWoP3pM%3D&sr=myhub.azure-devices.net%2Fdevices%2Fdev-01";
        var token = SasToken.Parse(reordered);
        Assert.Equal("myhub.azure-devices.net/devices/dev-01", token.Resource);
        Assert.True(token.IsSignatureValid(Key));
    }

    [Fact]
    public void Signature_is_over_the_resource_exactly_as_sent()
    {
        // Same resource, encoded differently (lower-case hex): the signature no longer matches.
        var tampered = ExpectedDeviceToken.Replace("%2F", "%2f");
        Assert.False(SasToken.Parse(tampered).IsSignatureValid(Key));
    }

    [Theory]
    [InlineData("", "starts with")]
    [InlineData("sr=a&sig=b&se=1", "starts with")]
    [InlineData("SharedAccessSignature sig=abc&se=1", "no 'sr'")]
    [InlineData("SharedAccessSignature sr=h&se=1", "no 'sig'")]
    [InlineData("SharedAccessSignature sr=h&sig=abc", "no 'se'")]
    [InlineData("SharedAccessSignature sr=h&sig=abc&se=soon", "not a number")]
    [InlineData("SharedAccessSignature sr=h&sig=abc&se=1&foo=bar", "unknown field 'foo'")]
    [InlineData("SharedAccessSignature sr=h&sig", "without 'name=value'")]
    public void Malformed_tokens_are_rejected_with_a_specific_reason(string text, string reason)
    {
        Assert.False(SasToken.TryParse(text, out _, out var error));
        Assert.Contains(reason, error);
        Assert.Throws<FormatException>(() => SasToken.Parse(text));
    }

    [Fact]
    public void Signature_with_a_key_that_is_not_base64_is_invalid_not_an_exception()
    {
        Assert.False(SasToken.Parse(ExpectedDeviceToken).IsSignatureValid("not base64!"));
    }

    [Theory]
    [InlineData("myhub.azure-devices.net", "devices/dev-01", true)]
    [InlineData("MYHUB.azure-devices.net", "devices/DEV-01", true)]
    [InlineData("myhub.azure-devices.net", "devices/dev-010", false)]
    [InlineData("myhub.azure-devices.net", "devices/dev-02", false)]
    [InlineData("otherhub.azure-devices.net", "devices/dev-01", false)]
    public void Device_token_covers_only_its_own_device(string host, string path, bool covered)
    {
        Assert.Equal(covered, SasToken.Parse(ExpectedDeviceToken).Covers(host, path));
    }

    [Fact]
    public void Hub_scoped_token_covers_every_path()
    {
        var token = SasToken.Parse(ExpectedServiceToken);
        Assert.True(token.Covers("myhub.azure-devices.net", "devices/anything"));
        Assert.True(token.Covers("myhub.azure-devices.net", ""));
    }

    [Fact]
    public void Expiry_is_checked_against_the_given_time()
    {
        var token = SasToken.Parse(ExpectedDeviceToken);
        Assert.False(token.IsExpired(Expiry.AddSeconds(-1)));
        Assert.True(token.IsExpired(Expiry));
    }

    [Fact]
    public void ToString_hides_the_signature()
    {
        var text = SasToken.Parse(ExpectedDeviceToken).ToString();
        Assert.DoesNotContain("M1yOEwGt", text);
        Assert.Contains("sig=***", text);
    }
}
