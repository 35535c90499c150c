using System.Text.Json.Nodes;

namespace FleetSim.HubEmulator.Registry;

/// <summary>
/// The subset of IoT Hub's query language the service SDKs send to <c>POST /devices/query</c>:
/// <c>SELECT * | COUNT() [AS name] | path[, path...] FROM devices [WHERE condition]</c>, where a condition combines
/// comparisons (<c>= != &lt;&gt; &lt; &gt; &lt;= &gt;=</c>) of twin paths (<c>deviceId</c>, <c>status</c>,
/// <c>connectionState</c>, <c>tags.a.b</c>, <c>properties.desired.x</c>, <c>properties.reported.x</c>…) with string
/// ('…'), number, true/false and null literals, <c>path IN ['a', 'b']</c>, <c>IS_DEFINED(path)</c>,
/// <c>STARTSWITH(path, 'x')</c>, <c>ENDSWITH(path, 'x')</c>, <c>AND</c>, <c>OR</c>, <c>NOT</c> and parentheses. Anything
/// else (GROUP BY, devices.modules, devices.jobs) is refused with a message saying what the emulator supports.
/// </summary>
public sealed partial class DeviceQuery
{
    private readonly Node? _where;

    private DeviceQuery(bool count, string? countAlias, IReadOnlyList<string[]>? projection, Node? where)
    {
        IsCount = count;
        CountAlias = countAlias ?? "$1";
        Projection = projection;
        _where = where;
    }

    /// <summary>SELECT COUNT(): one row with the number of matching devices.</summary>
    public bool IsCount { get; }

    public string CountAlias { get; }

    /// <summary>The selected paths; null for <c>SELECT *</c> (whole twins).</summary>
    public IReadOnlyList<string[]>? Projection { get; }

    /// <summary>Parses the query, or throws <see cref="FormatException"/> saying what is wrong.</summary>
    public static DeviceQuery Parse(string sql) => new Parser(sql).Query();

    /// <summary>True when the device matches the WHERE condition; <paramref name="resolve"/> reads a path of its twin (null: undefined).</summary>
    public bool Matches(Func<string[], JsonNode?> resolve) => _where is null || Truthy(_where.Evaluate(resolve));

    private static bool Truthy(object? value) => value is true;
}
