using System.Reflection;

using FleetSim.Metrics;

namespace FleetSim.Reporting;

/// <summary>
/// plotly.min.js as shipped inside the Plotly.NET assembly (an embedded resource), so report.html can inline it
/// once and draw offline. Plotly.NET's own "Full" reference would inline the 3.6 MB library once per chart.
/// </summary>
internal static class PlotlyScript
{
    private static readonly Lazy<string> Source = new(Load);

    public static string Text => Source.Value;

    /// <summary>
    /// Makes generated chart code (JSON data in JS) safe inside an HTML &lt;script&gt; element: "&lt;/" only
    /// occurs in its string literals, where "&lt;\/" means the same and cannot close the element early.
    /// </summary>
    public static string EscapeForScriptElement(string script) =>
        script.Replace("</", "<\\/", StringComparison.Ordinal).Replace("<!--", "<\\!--", StringComparison.Ordinal);

    private static string Load()
    {
        var assembly = typeof(Plotly.NET.GenericChart).Assembly;
        var name = Array.Find(
            assembly.GetManifestResourceNames(),
            n => n.StartsWith("Plotly.NET.plotly-", StringComparison.Ordinal) && n.EndsWith(".min.js", StringComparison.Ordinal))
            ?? throw new InvalidOperationException(
                $"plotly.min.js is not embedded in {assembly.GetName().Name} {assembly.GetName().Version}; the HTML report cannot inline it.");
        using var stream = assembly.GetManifestResourceStream(name)!;
        using var reader = new StreamReader(stream);
        var text = reader.ReadToEnd();
        if (text.Contains("</script", StringComparison.OrdinalIgnoreCase))
        {
            throw new InvalidOperationException($"{name} contains \"</script\" and cannot be inlined safely.");
        }

        return text;
    }
}
