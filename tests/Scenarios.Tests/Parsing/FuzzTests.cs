using System.Text;
using FleetSim.Scenarios.Parsing;
using YamlDotNet.RepresentationModel;

namespace FleetSim.Scenarios.Tests.Parsing;

/// <summary>
/// Mutates valid scenarios (text and tree mutations, fixed seed) and checks the loader's contract: it never
/// throws, and a scenario it refuses always comes with positioned errors.
/// </summary>
public sealed class FuzzTests
{
    private const int Iterations = 3000;
    private static readonly string[] Junk = ["{", "}", "[", "]", ":", "- ", "*a", "&a ", "!!int ", "%", "\t", "\"", "'", "#", "|", ">", "${X}", "{{", "}}", "\0", "é", "\u2028", "\r", "---\n", "? ", ",", "@", "`"];
    private static readonly string[] Scalars = ["-1", "0", "abc", "1e99", "", "~", "${UNSET_FUZZ}", "30", "10s", "true", "[]", "{}", "99999999999999999999", "0.5", "group:nope", "{{bad}}", "p99 < 1s"];

    private static List<string> Seeds()
    {
        var seeds = Directory.GetFiles(Loads.ScenariosFolder, "*.yaml").Select(File.ReadAllText).ToList();
        seeds.Add(SchemaAgreementTests.KitchenSink);
        seeds.Add(SchemaAgreementTests.ShortFormSink);
        return seeds;
    }

    [Fact]
    public void Mutated_scenarios_never_throw_and_always_give_positioned_errors()
    {
        var random = new Random(20261123);
        var seeds = Seeds();
        var refused = 0;
        for (var i = 0; i < Iterations; i++)
        {
            var original = seeds[random.Next(seeds.Count)];
            var mutated = random.Next(2) == 0 ? MutateText(original, random) : MutateTree(original, random);
            ScenarioLoadResult result;
            try
            {
                result = ScenarioLoader.LoadFromText(mutated, "fuzz.yaml", environment: _ => null);
            }
            catch (Exception e)
            {
                Assert.Fail($"iteration {i}: {e}\n--- input ---\n{mutated}");
                return;
            }
            if (result.Success)
            {
                continue;
            }
            refused++;
            Assert.NotEmpty(result.Errors);
            var lines = mutated.Count(c => c is '\n' or '\r' or '\u0085' or '\u2028' or '\u2029') + 2; // YAML's line breaks
            foreach (var error in result.Errors)
            {
                Assert.True(error.File == "fuzz.yaml" && error.Line >= 1 && error.Line <= lines && error.Column >= 1,
                    $"iteration {i}: badly positioned {error}\n--- input ---\n{mutated}");
                Assert.False(error.Message.Contains("internal error", StringComparison.Ordinal), $"iteration {i}: {error}\n--- input ---\n{mutated}");
                Assert.False(string.IsNullOrWhiteSpace(error.Message));
            }
        }
        Assert.True(refused > Iterations / 3, $"only {refused} of {Iterations} mutations were refused: the mutations are too weak");
    }

    [Theory]
    [InlineData("name: x\ndevices: {count: 1}\nduration: 1s\ntelemetry:\n  payload: &a [*a]\n")]
    [InlineData("name: x\ndevices: {count: 1}\nduration: 1s\ntelemetry:\n  payload:\n    a: &a [x, x, x, x, x, x, x, x, x, x]\n    b: &b [*a, *a, *a, *a, *a, *a, *a, *a, *a, *a]\n    c: &c [*b, *b, *b, *b, *b, *b, *b, *b, *b, *b]\n    d: &d [*c, *c, *c, *c, *c, *c, *c, *c, *c, *c]\n    e: &e [*d, *d, *d, *d, *d, *d, *d, *d, *d, *d]\n    f: [*e, *e, *e, *e, *e, *e, *e, *e, *e, *e]\n")]
    [InlineData("\uFEFFname: x\n")]
    [InlineData("name: !!binary AAAA\ndevices: {count: 1}\nduration: 1s\n")]
    [InlineData("? [a, b]\n: c\n")]
    public void Hostile_yaml_is_refused_with_positioned_errors(string yaml)
    {
        var result = ScenarioLoader.LoadFromText(yaml, "hostile.yaml", environment: _ => null);
        Assert.False(result.Success && yaml.Contains("*a", StringComparison.Ordinal) && yaml.Contains("f:", StringComparison.Ordinal), "an alias bomb must not load");
        Assert.All(result.Errors, e => Assert.True(e.Line >= 1 && e.Column >= 1 && !e.Message.Contains("internal error", StringComparison.Ordinal), e.ToString()));
    }

    private static string MutateText(string text, Random random)
    {
        var lines = text.Split('\n').ToList();
        var rounds = 1 + random.Next(3);
        for (var r = 0; r < rounds && lines.Count > 0; r++)
        {
            var at = random.Next(lines.Count);
            switch (random.Next(7))
            {
                case 0:
                    lines.RemoveAt(at);
                    break;
                case 1:
                    lines.Insert(at, lines[at]);
                    break;
                case 2:
                    var joined = string.Join('\n', lines);
                    return joined[..random.Next(joined.Length + 1)];
                case 3:
                    var line = lines[at];
                    var pos = random.Next(line.Length + 1);
                    lines[at] = line[..pos] + Junk[random.Next(Junk.Length)] + line[pos..];
                    break;
                case 4:
                    var bytes = new byte[1 + random.Next(8)];
                    random.NextBytes(bytes);
                    var target = lines[at];
                    var p = random.Next(target.Length + 1);
                    lines[at] = target[..p] + Encoding.Latin1.GetString(bytes) + target[p..];
                    break;
                case 5:
                    lines[at] = (random.Next(2) == 0 ? "  " : "") + lines[at].TrimStart(' ')[..Math.Min(lines[at].TrimStart(' ').Length, random.Next(40))];
                    break;
                default:
                    var other = random.Next(lines.Count);
                    (lines[at], lines[other]) = (lines[other], lines[at]);
                    break;
            }
        }
        return string.Join('\n', lines);
    }

    private static string MutateTree(string text, Random random)
    {
        var stream = new YamlStream();
        stream.Load(new StringReader(text));
        var nodes = stream.Documents[0].AllNodes.ToList();
        var rounds = 1 + random.Next(3);
        for (var r = 0; r < rounds; r++)
        {
            var parent = nodes[random.Next(nodes.Count)];
            switch (parent)
            {
                case YamlMappingNode mapping when mapping.Children.Count > 0:
                    var key = mapping.Children.Keys.ElementAt(random.Next(mapping.Children.Count));
                    switch (random.Next(4))
                    {
                        case 0:
                            mapping.Children.Remove(key);
                            break;
                        case 1:
                            mapping.Children[key] = Retype(random);
                            break;
                        case 2:
                            mapping.Children[new YamlScalarNode(((YamlScalarNode)key).Value + (random.Next(2) == 0 ? "x" : ""))] = Retype(random);
                            break;
                        default:
                            mapping.Children[key] = new YamlMappingNode(new YamlScalarNode("extra"), Retype(random));
                            break;
                    }
                    break;
                case YamlSequenceNode sequence when sequence.Children.Count > 0:
                    var index = random.Next(sequence.Children.Count);
                    if (random.Next(3) == 0)
                    {
                        sequence.Children.RemoveAt(index);
                    }
                    else if (random.Next(2) == 0)
                    {
                        sequence.Children.Add(sequence.Children[index]);
                    }
                    else
                    {
                        sequence.Children[index] = Retype(random);
                    }
                    break;
            }
        }
        var writer = new StringWriter();
        stream.Save(writer, assignAnchors: false);
        return writer.ToString();
    }

    private static YamlNode Retype(Random random) => random.Next(4) switch
    {
        0 => new YamlSequenceNode(new YamlScalarNode(Scalars[random.Next(Scalars.Length)])),
        1 => new YamlMappingNode(new YamlScalarNode("k"), new YamlScalarNode(Scalars[random.Next(Scalars.Length)])),
        _ => new YamlScalarNode(Scalars[random.Next(Scalars.Length)]),
    };
}
