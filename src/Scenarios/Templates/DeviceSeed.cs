namespace FleetSim.Scenarios.Templates;

/// <summary>
/// Derives the seed of one device's <see cref="Random"/> from the scenario seed, the device's index in the
/// fleet and a stream number (telemetry, reported, ...), so runs reproduce and streams do not correlate.
/// SplitMix64 finalizer: stable across processes and platforms, unlike string hash codes.
/// </summary>
public static class DeviceSeed
{
    public const int Telemetry = 1;
    public const int Reported = 2;
    public const int Methods = 3;
    public const int Properties = 4;
    public const int Service = 5;

    public static int Derive(int scenarioSeed, int deviceIndex, int stream)
    {
        var x = ((ulong)(uint)scenarioSeed << 32) ^ (uint)deviceIndex ^ ((ulong)(uint)stream << 48) ^ 0x9E3779B97F4A7C15UL;
        x = (x ^ (x >> 30)) * 0xBF58476D1CE4E5B9UL;
        x = (x ^ (x >> 27)) * 0x94D049BB133111EBUL;
        x ^= x >> 31;
        return (int)(x & 0x7FFFFFFF);
    }
}
