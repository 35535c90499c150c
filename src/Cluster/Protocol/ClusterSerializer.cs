using System.Text.Json;
using System.Text.Json.Serialization;
using Akka.Actor;
using Akka.Serialization;
using FleetSim.Metrics;

namespace FleetSim.Cluster.Protocol;

/// <summary>
/// The serializer of every <see cref="IClusterMessage"/>: a short manifest per type and the record as compact JSON
/// (records of primitives; histograms travel as HdrHistogram's compressed encoding inside <see cref="MetricsInterval"/>);
/// actor references as their serialized paths. Bound in HOCON to the marker interface, so nothing of ours falls back to
/// Akka's default serializer.
/// </summary>
public sealed class ClusterSerializer : SerializerWithStringManifest
{
    public const int Id = 7411;

    private static readonly Dictionary<Type, string> Manifests = new()
    {
        [typeof(RunPlan)] = "plan",
        [typeof(NodeJoined)] = "joined",
        [typeof(NodePlanRejected)] = "rejected",
        [typeof(NodeReport)] = "report",
        [typeof(RecoveredDevice)] = "recovered",
        [typeof(NodeStopped)] = "stopped",
        [typeof(StartDevice)] = "start",
        [typeof(StopDevice)] = "stop",
        [typeof(DeviceHandedOff)] = "handedoff",
        [typeof(SetTelemetryInterval)] = "interval",
        [typeof(SetPaused)] = "paused",
        [typeof(StopAllDevices)] = "stopall",
        [typeof(PlanPartition)] = "partition",
    };

    private static readonly Dictionary<string, Type> Types = Manifests.ToDictionary(static p => p.Value, static p => p.Key, StringComparer.Ordinal);

    private readonly JsonSerializerOptions _json;

    public ClusterSerializer(ExtendedActorSystem system) : base(system)
    {
        _json = new JsonSerializerOptions(JsonSerializerDefaults.General)
        {
            Converters = { new ActorRefConverter(system) },
            RespectRequiredConstructorParameters = true,
        };
    }

    public override int Identifier => Id;

    /// <summary>The HOCON that binds this serializer to <see cref="IClusterMessage"/>.</summary>
    public static string Hocon => $$"""
        akka.actor {
          serializers.fleetsim = "{{typeof(ClusterSerializer).AssemblyQualifiedName}}"
          serialization-bindings { "{{typeof(IClusterMessage).AssemblyQualifiedName}}" = fleetsim }
          serialization-identifiers { "{{typeof(ClusterSerializer).AssemblyQualifiedName}}" = {{Id}} }
        }
        """;

    public override string Manifest(object o) =>
        Manifests.TryGetValue(o.GetType(), out var manifest) ? manifest : throw new ArgumentException($"{o.GetType()} is not a FleetSim cluster message");

    public override byte[] ToBinary(object obj) => JsonSerializer.SerializeToUtf8Bytes(obj, obj.GetType(), _json);

    public override object FromBinary(byte[] bytes, string manifest)
    {
        if (!Types.TryGetValue(manifest, out var type))
            throw new SerializationException($"unknown FleetSim cluster message manifest '{manifest}'");
        return JsonSerializer.Deserialize(bytes, type, _json) ?? throw new SerializationException($"empty '{manifest}' message");
    }

    /// <summary>An actor reference as its full remote path, resolved again on the receiving system.</summary>
    private sealed class ActorRefConverter(ExtendedActorSystem system) : JsonConverter<IActorRef>
    {
        public override IActorRef Read(ref Utf8JsonReader reader, Type typeToConvert, JsonSerializerOptions options)
        {
            var path = reader.GetString();
            return string.IsNullOrEmpty(path) ? ActorRefs.Nobody : system.Provider.ResolveActorRef(path);
        }

        public override void Write(Utf8JsonWriter writer, IActorRef value, JsonSerializerOptions options) =>
            writer.WriteStringValue(value.IsNobody() ? "" : Akka.Serialization.Serialization.SerializedActorPath(value));
    }
}

/// <summary>Serialization failures of cluster messages.</summary>
public sealed class SerializationException(string message) : Exception(message);
