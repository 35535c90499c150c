using System.Security.Cryptography.X509Certificates;
using FleetSim.HubEmulator.Certificates;
using FleetSim.HubEmulator.Faults;
using FleetSim.HubEmulator.Registry;
using FleetSim.HubEmulator.Throttling;
using FleetSim.Protocol;
using MQTTnet.Formatter;

namespace FleetSim.HubEmulator.Mqtt;

/// <summary>
/// Checks a device CONNECT the way IoT Hub does (PROTOCOL.md sections 1 and 2): MQTT 3.1.1, ClientId = a
/// registered, enabled device id, username <c>{host}/{clientId}/?…</c> (any parameters, any order), and a
/// SAS token signed with one of the device's keys (or the iothubowner policy with skn), not expired, whose
/// resource covers <c>{host}/devices/{id}</c>; or, for X.509 devices, a client certificate whose thumbprint
/// matches or that the emulator CA signed for CN = device id. A CONNECT that passes all of that and finds the
/// connects-per-second quota spent is refused as throttled (CONNACK 3); refused ones do not spend the quota.
/// </summary>
internal sealed class ConnectAuthenticator
{
    /// <summary>The one shared access policy the emulator has; it may connect devices, as on a real hub.</summary>
    public const string OwnerPolicy = "iothubowner";

    private readonly HubHostNames _hostNames;
    private readonly DeviceRegistry _registry;
    private readonly string _serviceKey;
    private readonly DeviceCertificateCheck _certificateCheck;
    private readonly FaultInjector _faults;
    private readonly HubThrottle _throttle;
    private readonly TimeProvider _time;

    public ConnectAuthenticator(
        HubHostNames hostNames, DeviceRegistry registry, string serviceKey, DeviceCertificateCheck certificateCheck, FaultInjector faults,
        HubThrottle throttle, TimeProvider time)
    {
        _throttle = throttle;
        _hostNames = hostNames;
        _registry = registry;
        _serviceKey = serviceKey;
        _certificateCheck = certificateCheck;
        _faults = faults;
        _time = time;
    }

    public ConnectRefusal Validate(
        MqttProtocolVersion protocol,
        string? clientId,
        string? username,
        string? password,
        X509Certificate2? clientCertificate,
        out RegisteredDevice? device,
        out DateTimeOffset? expiresAt,
        out string? modelId)
    {
        var refusal = Check(protocol, clientId, username, password, clientCertificate, out device, out expiresAt, out modelId);
        return refusal == ConnectRefusal.None && !_throttle.TryConnect() ? ConnectRefusal.Throttled : refusal;
    }

    private ConnectRefusal Check(
        MqttProtocolVersion protocol,
        string? clientId,
        string? username,
        string? password,
        X509Certificate2? clientCertificate,
        out RegisteredDevice? device,
        out DateTimeOffset? expiresAt,
        out string? modelId)
    {
        device = null;
        expiresAt = null;
        modelId = null;
        if (protocol != MqttProtocolVersion.V311)
        {
            return ConnectRefusal.UnsupportedProtocol;
        }

        if (_faults.IsRefusingConnects(clientId ?? ""))
        {
            return ConnectRefusal.ServerUnavailable;
        }

        if (string.IsNullOrEmpty(clientId) || clientId.Contains('/'))
        {
            return ConnectRefusal.BadClientId;
        }

        if (!MqttUsername.TryParse(username, out var host, out var userClientId, out var parameters)
            || !_hostNames.Matches(host)
            || !string.Equals(userClientId, clientId, StringComparison.Ordinal))
        {
            return ConnectRefusal.BadUsername;
        }

        modelId = parameters.TryGetValue("model-id", out var model) && model.Length > 0 ? model : null;
        device = _registry.Find(clientId);
        if (device is null)
        {
            return ConnectRefusal.UnknownDevice;
        }

        var identity = device.Identity;
        if (!identity.Enabled)
        {
            return ConnectRefusal.DeviceDisabled;
        }

        if (identity.AuthenticationType != DeviceAuthenticationType.Sas)
        {
            return ValidateCertificate(identity, clientCertificate);
        }

        var sas = ValidateSas(identity, password, out expiresAt);
        return sas == ConnectRefusal.None && expiresAt is { } expiry && device.Connection.IsRevoked(expiry) ? ConnectRefusal.TokenExpired : sas;
    }

    private ConnectRefusal ValidateSas(DeviceIdentity identity, string? password, out DateTimeOffset? expiresAt)
    {
        expiresAt = null;
        if (string.IsNullOrEmpty(password))
        {
            return ConnectRefusal.MissingCredentials;
        }

        if (!SasToken.TryParse(password, out var token, out _))
        {
            return ConnectRefusal.MalformedToken;
        }

        if (token.IsExpired(_time.GetUtcNow()))
        {
            return ConnectRefusal.TokenExpired;
        }

        if (!_hostNames.Covers(token, "devices/" + identity.DeviceId))
        {
            return ConnectRefusal.WrongScope;
        }

        if (token.KeyName is null)
        {
            if (!token.IsSignatureValid(identity.PrimaryKey!) && !token.IsSignatureValid(identity.SecondaryKey!))
            {
                return ConnectRefusal.BadSignature;
            }
        }
        else if (!string.Equals(token.KeyName, OwnerPolicy, StringComparison.Ordinal))
        {
            return ConnectRefusal.UnknownPolicy;
        }
        else if (!token.IsSignatureValid(_serviceKey))
        {
            return ConnectRefusal.BadSignature;
        }

        expiresAt = token.ExpiresAt;
        return ConnectRefusal.None;
    }

    private ConnectRefusal ValidateCertificate(DeviceIdentity identity, X509Certificate2? certificate) =>
        certificate is null ? ConnectRefusal.MissingCredentials
        : _certificateCheck.Authenticates(identity, certificate) ? ConnectRefusal.None
        : ConnectRefusal.CertificateRejected;
}
