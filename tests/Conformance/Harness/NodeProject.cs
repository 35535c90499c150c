using System.Diagnostics;
using System.Security.Cryptography;
using FleetSim.Protocol;

namespace FleetSim.Conformance.Tests.Harness;

/// <summary>
/// Makes node_modules match package-lock.json: runs `npm ci` when node_modules is missing or was installed from
/// another lock file (a stamp with the lock file's SHA-256 is written after a successful install).
/// </summary>
public static class NodeProject
{
    private const string StampName = ".fleetsim-lock.sha256";

    /// <summary>True if `npm ci` ran.</summary>
    public static async Task<bool> EnsureInstalledAsync(string nodeDirectory, TimeSpan timeout)
    {
        var lockFile = Path.Combine(nodeDirectory, "package-lock.json");
        if (!File.Exists(lockFile))
        {
            throw new InvalidOperationException($"{lockFile} is missing");
        }

        var lockHash = Convert.ToHexString(SHA256.HashData(await File.ReadAllBytesAsync(lockFile)));
        var modules = Path.Combine(nodeDirectory, "node_modules");
        var stamp = Path.Combine(modules, StampName);
        if (File.Exists(stamp) && (await File.ReadAllTextAsync(stamp)).Trim() == lockHash)
        {
            return false;
        }

        var start = new ProcessStartInfo("npm")
        {
            WorkingDirectory = nodeDirectory,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        foreach (var arg in new[] { "ci", "--no-audit", "--no-fund", "--loglevel=error" })
        {
            start.ArgumentList.Add(arg);
        }

        using var npm = StartTool(start, "npm");
        var stdout = npm.StandardOutput.ReadToEndAsync();
        var stderr = npm.StandardError.ReadToEndAsync();
        using var cts = new CancellationTokenSource(timeout);
        try
        {
            await npm.WaitForExitAsync(cts.Token);
        }
        catch (OperationCanceledException)
        {
            npm.Kill(entireProcessTree: true);
            throw new InvalidOperationException($"npm ci did not finish within {timeout.TotalSeconds:0} s");
        }

        if (npm.ExitCode != 0)
        {
            throw new InvalidOperationException(
                $"npm ci failed with exit code {npm.ExitCode} in {nodeDirectory}:\n{Redaction.Redact(await stdout)}\n{Redaction.Redact(await stderr)}");
        }

        await File.WriteAllTextAsync(stamp, lockHash);
        return true;
    }

    /// <summary>Starts node or npm, with a clear error when it is not installed.</summary>
    internal static Process StartTool(ProcessStartInfo start, string tool)
    {
        try
        {
            return Process.Start(start) ?? throw new InvalidOperationException($"could not start {tool}");
        }
        catch (System.ComponentModel.Win32Exception e)
        {
            throw new InvalidOperationException($"could not start '{tool}' ({e.Message}): the conformance tests need Node.js 20 and npm on PATH", e);
        }
    }
}
