using System.Reflection;

namespace FleetSim.Conformance.Tests.Harness;

/// <summary>Where the built <c>fleetsim.dll</c> and the Node project are (baked in by the .csproj at build time).</summary>
public static class TestPaths
{
    public static string FleetSimDll => Metadata("FleetSimDll");

    public static string NodeDirectory => Metadata("ConformanceNodeDir");

    private static string Metadata(string key) =>
        typeof(TestPaths).Assembly.GetCustomAttributes<AssemblyMetadataAttribute>().FirstOrDefault(a => a.Key == key)?.Value
        ?? throw new InvalidOperationException($"the test assembly has no '{key}' metadata; build it with its .csproj");
}
