namespace FleetSim.DeviceActors;

/// <summary>
/// A per-device seeded generator (SplitMix64): 8 bytes of state instead of a System.Random's ~250, which
/// matters at 100k devices per node, and the same sequence for the same seed so runs reproduce.
/// </summary>
public struct DeviceRandom
{
    private ulong _state;

    public DeviceRandom(long seed) => _state = unchecked((ulong)seed * 0x9E3779B97F4A7C15UL + 0x632BE59BD9B4E019UL);

    /// <summary>The seed for one device of a scenario: distinct per device, stable across runs.</summary>
    public static DeviceRandom ForDevice(long scenarioSeed, int deviceIndex) => new(unchecked(scenarioSeed * 1_000_003L + deviceIndex));

    public ulong NextUInt64()
    {
        var z = _state += 0x9E3779B97F4A7C15UL;
        z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9UL;
        z = (z ^ (z >> 27)) * 0x94D049BB133111EBUL;
        return z ^ (z >> 31);
    }

    /// <summary>Uniform in [0, 1].</summary>
    public double NextDouble() => (NextUInt64() >> 11) * (1.0 / ((1UL << 53) - 1));
}
