namespace FleetSim.Scenarios.Templates;

/// <summary>A template compile error at a character offset of the template source.</summary>
public sealed record TemplateError(int Offset, string Message, string? Hint = null)
{
    public override string ToString() => Hint is null ? $"offset {Offset}: {Message}" : $"offset {Offset}: {Message} ({Hint})";
}
