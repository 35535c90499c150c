using FleetSim.Scenarios.Templates;

namespace FleetSim.Scenarios.Model;

/// <summary>A service-side action that runs at RatePerSecond through the run (paused by pause phases).</summary>
public abstract record ServiceAction(double RatePerSecond, ServiceTarget Target);

/// <summary>Invoke a direct method through the service API (POST /twins/{id}/methods).</summary>
public sealed record InvokeMethodAction(
    string MethodName,
    PayloadTemplate? Payload,
    TimeSpan ResponseTimeout,
    TimeSpan ConnectTimeout,
    double RatePerSecond,
    ServiceTarget Target) : ServiceAction(RatePerSecond, Target)
{
    public static readonly TimeSpan DefaultResponseTimeout = TimeSpan.FromSeconds(30);
}

/// <summary>Patch desired properties (PATCH /twins/{id}); Template renders a JSON object.</summary>
public sealed record PatchDesiredAction(PayloadTemplate Template, double RatePerSecond, ServiceTarget Target)
    : ServiceAction(RatePerSecond, Target);

/// <summary>Send a cloud-to-device message with the rendered body and properties.</summary>
public sealed record SendC2dAction(
    PayloadTemplate Template,
    IReadOnlyList<KeyValuePair<string, PayloadTemplate>> Properties,
    double RatePerSecond,
    ServiceTarget Target) : ServiceAction(RatePerSecond, Target);

public enum ServiceTargetKind { Random, All, Group }

/// <summary>Random: one connected device per call. All: every device per call. Group: a random device of GroupName.</summary>
public sealed record ServiceTarget(ServiceTargetKind Kind, string? GroupName)
{
    public static ServiceTarget Random { get; } = new(ServiceTargetKind.Random, null);
    public static ServiceTarget All { get; } = new(ServiceTargetKind.All, null);

    public override string ToString() => Kind switch
    {
        ServiceTargetKind.Group => "group:" + GroupName,
        ServiceTargetKind.All => "all",
        _ => "random",
    };
}
