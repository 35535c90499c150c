using System.Diagnostics;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;

namespace FleetSim.Conformance.Tests.Harness;

/// <summary>Runs one conformance script with `node --require ./lib/port-map.js` and a deadline.</summary>
public static class NodeScript
{
    /// <summary>How long past the script's own deadline (FLEETSIM_TIMEOUT_MS) the harness waits before killing it.</summary>
    private static readonly TimeSpan KillGrace = TimeSpan.FromSeconds(10);

    public static async Task<ScriptResult> RunAsync(string nodeDirectory, string script, IReadOnlyList<string> args,
        IReadOnlyDictionary<string, string?> environment, TimeSpan timeout)
    {
        var start = new ProcessStartInfo("node")
        {
            WorkingDirectory = nodeDirectory,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            RedirectStandardInput = true,
            UseShellExecute = false,
            StandardOutputEncoding = Encoding.UTF8,
        };
        start.ArgumentList.Add("--require");
        start.ArgumentList.Add("./lib/port-map.js");
        start.ArgumentList.Add(script);
        foreach (var arg in args)
        {
            start.ArgumentList.Add(arg);
        }

        // Nothing inherited may change how node or the SDKs behave.
        foreach (var name in new[] { "NODE_OPTIONS", "NODE_EXTRA_CA_CERTS", "DEBUG", "NODE_TLS_REJECT_UNAUTHORIZED", "FLEETSIM_PORT_MAP" })
        {
            start.Environment.Remove(name);
        }

        foreach (var (name, value) in environment)
        {
            if (value is null)
            {
                start.Environment.Remove(name);
            }
            else
            {
                start.Environment[name] = value;
            }
        }

        start.Environment["FLEETSIM_TIMEOUT_MS"] = ((long)timeout.TotalMilliseconds).ToString(System.Globalization.CultureInfo.InvariantCulture);

        using var process = NodeProject.StartTool(start, "node");
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEndAsync();
        var killed = false;
        using (var cts = new CancellationTokenSource(timeout + KillGrace))
        {
            try
            {
                await process.WaitForExitAsync(cts.Token);
            }
            catch (OperationCanceledException)
            {
                killed = true;
                process.Kill(entireProcessTree: true);
                await process.WaitForExitAsync();
            }
        }

        var events = new List<JsonObject>();
        var other = new List<string>();
        foreach (var line in (await stdout).Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))
        {
            if (TryParse(line) is { } json)
            {
                events.Add(json);
            }
            else
            {
                other.Add(line);
            }
        }

        return new ScriptResult(script + (args.Count > 0 ? " " + string.Join(' ', args) : ""), process.ExitCode, killed, events, other, await stderr);
    }

    private static JsonObject? TryParse(string line)
    {
        if (!line.StartsWith('{'))
        {
            return null;
        }

        try
        {
            return JsonNode.Parse(line) as JsonObject;
        }
        catch (JsonException)
        {
            return null;
        }
    }
}
