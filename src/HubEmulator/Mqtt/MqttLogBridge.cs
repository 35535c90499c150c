using Microsoft.Extensions.Logging;
using MQTTnet.Diagnostics.Logger;

namespace FleetSim.HubEmulator.Mqtt;

/// <summary>
/// MQTTnet's log into Microsoft.Extensions.Logging. MQTTnet reports routine per-connection trouble (a client
/// that vanished mid-packet) as errors; with a fleet of thousands that is noise, so its errors become warnings,
/// its warnings debug, and its info and verbose output is dropped. Messages are formatted only when enabled.
/// </summary>
internal sealed class MqttLogBridge : IMqttNetLogger
{
    private readonly ILogger _logger;

    public MqttLogBridge(ILogger logger) => _logger = logger;

    public bool IsEnabled => _logger.IsEnabled(LogLevel.Debug);

    public void Publish(MqttNetLogLevel level, string source, string message, object[] parameters, Exception exception)
    {
        var mapped = level switch
        {
            MqttNetLogLevel.Error => LogLevel.Warning,
            MqttNetLogLevel.Warning => LogLevel.Debug,
            _ => LogLevel.None,
        };
        if (mapped == LogLevel.None || !_logger.IsEnabled(mapped))
        {
            return;
        }

        var text = parameters is { Length: > 0 } ? string.Format(System.Globalization.CultureInfo.InvariantCulture, message, parameters) : message;
#pragma warning disable CA2254 // MQTTnet hands over preformatted text; there is no template to keep.
        _logger.Log(mapped, exception, "MQTTnet {Source}: {Message}", source, FleetSim.Protocol.Redaction.Redact(text));
#pragma warning restore CA2254
    }
}
