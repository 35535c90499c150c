using System.Text.Json;
using System.Text.Json.Nodes;
using Microsoft.AspNetCore.Http;

namespace FleetSim.HubEmulator.Rest;

/// <summary>A request's JSON body of the expected kind, or the 400 that says why it is not one.</summary>
internal readonly record struct JsonBody<T>(T? Value, IResult? Error)
    where T : JsonNode;

/// <summary>
/// Reads a REST request's JSON body the one way every endpoint does: parsed as it streams in, given up with the request,
/// and checked for its kind (object or array). Malformed JSON, an empty body or another kind of value is a 400
/// ArgumentInvalid naming what the endpoint takes and what was wrong.
/// </summary>
internal static class JsonBody
{
    /// <param name="request">The request.</param>
    /// <param name="what">What the body should be, for the error ("a Device JSON object").</param>
    public static async Task<JsonBody<T>> ReadAsync<T>(HttpRequest request, string what)
        where T : JsonNode
    {
        try
        {
            var node = await JsonNode.ParseAsync(request.Body, cancellationToken: request.HttpContext.RequestAborted).ConfigureAwait(false);
            return node is T value
                ? new(value, null)
                : new(null, RestErrors.BadRequest($"The request body is not {what}: expected a JSON {(typeof(T) == typeof(JsonArray) ? "array" : "object")}."));
        }
        catch (JsonException e)
        {
            return new(null, RestErrors.BadRequest($"The request body is not {what}: {e.Message}"));
        }
    }

    /// <summary>The body as a JSON object, or null when it is none (for endpoints that say themselves what they need).</summary>
    public static async Task<JsonObject?> ObjectOrNullAsync(HttpRequest request) =>
        (await ReadAsync<JsonObject>(request, "a JSON object").ConfigureAwait(false)).Value;
}
