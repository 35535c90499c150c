using System.Runtime.InteropServices;

namespace FleetSim.Simulator.Memory;

/// <summary>
/// Caps glibc's malloc arenas for this process (as <c>MALLOC_ARENA_MAX=2</c> would). Every TLS connection allocates
/// its OpenSSL state through malloc on whichever thread-pool thread runs the handshake or the read; with glibc's
/// default of 8 arenas per core, memory freed when connections close stays behind in many half-empty arenas, and
/// under reconnect churn the resident set grows while the memory in use does not (bench/README.md, soak). Fewer
/// arenas reuse what was freed. Called first thing in Main, but the runtime's start-up threads have made a few arenas
/// by then (6 arena heaps against 16 measured), so <c>MALLOC_ARENA_MAX=2</c> in the environment does more (the Docker
/// image sets it); a value the user set through the environment wins.
/// </summary>
public static class MallocArenas
{
    public const int Limit = 2;
    private const int MArenaMax = -8; // malloc.h: M_ARENA_MAX

    /// <summary>True when the cap was applied; false on other platforms or C libraries, or when the user chose a setting.</summary>
    public static bool Apply()
    {
        if (!OperatingSystem.IsLinux()
            || Environment.GetEnvironmentVariable("MALLOC_ARENA_MAX") is not null
            || Environment.GetEnvironmentVariable("GLIBC_TUNABLES")?.Contains("arena_max", StringComparison.Ordinal) == true)
        {
            return false;
        }

        try
        {
            return MallOpt(MArenaMax, Limit) == 1;
        }
        catch (Exception e) when (e is EntryPointNotFoundException or DllNotFoundException)
        {
            return false; // not glibc (musl has no arenas to cap)
        }
    }

    [DllImport("libc", EntryPoint = "mallopt")]
#pragma warning disable SYSLIB1054 // one call at start-up; LibraryImport would need unsafe code enabled
    private static extern int MallOpt(int param, int value);
#pragma warning restore SYSLIB1054
}
