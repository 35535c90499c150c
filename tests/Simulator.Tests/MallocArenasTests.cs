using FleetSim.Simulator.Memory;

namespace FleetSim.Simulator.Tests;

/// <summary>fleetsim caps glibc's malloc arenas at start, unless the user chose a setting (bench/README.md, soak).</summary>
[Collection(nameof(MallocArenasCollection))]
public sealed class MallocArenasTests
{
    [Fact]
    public void Caps_the_arenas_on_glibc_Linux()
    {
        Assert.Null(Environment.GetEnvironmentVariable("MALLOC_ARENA_MAX")); // the test run's own environment chose nothing

        Assert.Equal(OperatingSystem.IsLinux(), MallocArenas.Apply()); // Linux here means glibc (the CI machine, the Debian image)
    }

    [Fact]
    public void Leaves_the_arenas_alone_when_the_user_set_MALLOC_ARENA_MAX()
    {
        var before = Environment.GetEnvironmentVariable("MALLOC_ARENA_MAX");
        Environment.SetEnvironmentVariable("MALLOC_ARENA_MAX", "4");
        try
        {
            Assert.False(MallocArenas.Apply());
        }
        finally
        {
            Environment.SetEnvironmentVariable("MALLOC_ARENA_MAX", before);
        }
    }
}

/// <summary>The tests above change an environment variable of the test process: run alone.</summary>
[CollectionDefinition(nameof(MallocArenasCollection), DisableParallelization = true)]
public sealed class MallocArenasCollection;
