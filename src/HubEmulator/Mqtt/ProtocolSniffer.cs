using Microsoft.AspNetCore.Connections;

namespace FleetSim.HubEmulator.Mqtt;

/// <summary>
/// Lets the HTTPS port also speak MQTT: after the TLS handshake the first byte tells them apart (an MQTT
/// CONNECT starts with 0x10, HTTP/1.1 with a letter, HTTP/2 with "PRI"). Nothing is consumed, so whichever
/// side gets the connection reads it from the start. SDKs that take both endpoints from one HostName:port
/// (the Node SDK) then work against a single non-default port.
/// </summary>
internal static class ProtocolSniffer
{
    private const byte MqttConnect = 0x10;

    public static async Task RouteAsync(ConnectionContext connection, ConnectionDelegate http, KestrelMqttAdapter mqtt)
    {
        var input = connection.Transport.Input;
        var result = await input.ReadAsync(connection.ConnectionClosed).ConfigureAwait(false);
        var buffer = result.Buffer;
        var isMqtt = !buffer.IsEmpty && buffer.FirstSpan[0] == MqttConnect;
        input.AdvanceTo(buffer.Start, buffer.Start);
        if (isMqtt)
        {
            await mqtt.OnConnectedAsync(connection).ConfigureAwait(false);
        }
        else
        {
            await http(connection).ConfigureAwait(false);
        }
    }
}
