using System.Collections;
using System.Diagnostics;
using System.Text;
using FleetSim.Simulator.Memory;

namespace FleetSim.Simulator.Tests;

/// <summary>
/// fleetsim runs with glibc's malloc arenas capped at 2 (it restarts itself with MALLOC_ARENA_MAX=2 unless the user
/// chose a setting; bench/README.md, soak). Never call <see cref="MallocArenas.Apply"/> here: it would replace the
/// test host. The process tests start the real fleetsim and read what its kernel says about it.
/// </summary>
public sealed class MallocArenasTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("fleetsim-arenas-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    [Fact]
    public void The_users_setting_wins()
    {
        Assert.False(MallocArenas.UserChose(_ => null));
        Assert.True(MallocArenas.UserChose(name => name == "MALLOC_ARENA_MAX" ? "8" : null));
        Assert.True(MallocArenas.UserChose(name => name == "GLIBC_TUNABLES" ? "glibc.malloc.arena_max=4" : null));
        Assert.False(MallocArenas.UserChose(name => name == "GLIBC_TUNABLES" ? "glibc.malloc.tcache_count=0" : null));
    }

    [Fact]
    public void Restarts_with_the_same_arguments_and_the_cap_added_to_the_environment()
    {
        var argv = MallocArenas.Arguments(Encoding.UTF8.GetBytes("dotnet\0fleetsim.dll\0run\0a b.yaml\0\0--x\0"));
        Assert.Equal(new string?[] { "dotnet", "fleetsim.dll", "run", "a b.yaml", "", "--x", null }, argv);

        var envp = MallocArenas.EnvironmentWithCap(new Hashtable { ["HOME"] = "/root", ["FLEETSIM_HUB"] = "x=y" });
        Assert.Null(envp[^1]);
        Assert.Equal(["FLEETSIM_HUB=x=y", "HOME=/root", "MALLOC_ARENA_MAX=2"], envp[..^1].Order(StringComparer.Ordinal));
    }

    [Fact]
    public async Task A_fleetsim_process_runs_with_MALLOC_ARENA_MAX_2_under_its_own_pid()
    {
        if (!OperatingSystem.IsLinux())
            return;

        var (pid, environ, cmdline) = await StartHubAndReadAsync(null);

        Assert.Contains("MALLOC_ARENA_MAX=2", environ); // the restarted image's environment
        Assert.Contains("hub", cmdline); // the same arguments, in the process the parent started
        Assert.Contains("--state-file", cmdline);
        Assert.True(pid > 0);
    }

    [Fact]
    public async Task A_setting_of_the_user_is_kept()
    {
        if (!OperatingSystem.IsLinux())
            return;

        var (_, environ, _) = await StartHubAndReadAsync(new Dictionary<string, string> { ["MALLOC_ARENA_MAX"] = "4" });

        Assert.Contains("MALLOC_ARENA_MAX=4", environ);
        Assert.DoesNotContain("MALLOC_ARENA_MAX=2", environ);
    }

    /// <summary>Starts `fleetsim hub`, waits until it is listening (its state file), reads /proc/PID/environ and cmdline, stops it.</summary>
    private async Task<(int Pid, string[] Environ, string[] Cmdline)> StartHubAndReadAsync(IReadOnlyDictionary<string, string>? environment)
    {
        var stateFile = Path.Combine(_dir, $"state-{Guid.NewGuid():N}.json");
        using var hub = Process.Start(Fleetsim.StartInfo(_dir,
            ["hub", "--mqtt-port", "0", "--https-port", "0", "--state-file", stateFile, "--data-dir", Path.Combine(_dir, "hub")], environment))!;
        var stdout = hub.StandardOutput.ReadToEndAsync();
        var stderr = hub.StandardError.ReadToEndAsync();
        try
        {
            await Poll.UntilAsync(() => File.Exists(stateFile), "the hub's state file", TimeSpan.FromSeconds(60),
                () => hub.HasExited ? $"the hub exited with code {hub.ExitCode}" : null);
            var environ = (await File.ReadAllTextAsync($"/proc/{hub.Id}/environ")).Split('\0');
            var cmdline = (await File.ReadAllTextAsync($"/proc/{hub.Id}/cmdline")).Split('\0');
            return (hub.Id, environ, cmdline);
        }
        finally
        {
            if (!hub.HasExited)
            {
                using var kill = Process.Start("kill", ["-TERM", hub.Id.ToString(System.Globalization.CultureInfo.InvariantCulture)]);
                await kill.WaitForExitAsync();
            }

            using var cts = new CancellationTokenSource(TimeSpan.FromSeconds(30));
            await hub.WaitForExitAsync(cts.Token);
            Assert.Equal(0, hub.ExitCode); // the restarted process exits as the one the parent started would
            Assert.DoesNotContain("   at ", await stderr);
            _ = await stdout;
        }
    }
}
