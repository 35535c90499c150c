using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;
using MQTTnet.AspNetCore;

namespace FleetSim.HubEmulator.Mqtt;

/// <summary>
/// MQTT over WebSockets at <c>wss://{host}:{HttpsPort}/$iothub/websocket</c> (subprotocol "mqtt"), as the SDKs'
/// websocket transports use it. The same CONNECT checks and topic rules apply; the TLS client certificate, if
/// any, is passed on for X.509 devices.
/// </summary>
internal static class WebSocketEndpoint
{
    public const string Path = "/$iothub/websocket";

    public static void Map(IEndpointRouteBuilder app, HubMqttServer mqtt)
    {
        app.Map(Path, async context =>
        {
            if (!context.WebSockets.IsWebSocketRequest)
            {
                context.Response.StatusCode = StatusCodes.Status400BadRequest;
                await context.Response.WriteAsync("MQTT over WebSockets only (Sec-WebSocket-Protocol: mqtt).").ConfigureAwait(false);
                return;
            }

            var subProtocol = MqttSubProtocolSelector.SelectSubProtocol(context.Request);
            using var socket = await context.WebSockets.AcceptWebSocketAsync(subProtocol).ConfigureAwait(false);
            await mqtt.WebSocketAdapter.RunWebSocketConnectionAsync(socket, context).ConfigureAwait(false);
        });
    }
}
