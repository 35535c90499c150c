using System.Text.Json.Nodes;

namespace FleetSim.Protocol;

/// <summary>The twin patch rule: a recursive JSON merge where <c>null</c> removes the property.</summary>
public static class JsonMerge
{
    public static void Apply(JsonObject target, JsonObject patch)
    {
        foreach (var (key, value) in patch)
        {
            if (value is null)
            {
                target.Remove(key);
            }
            else if (value is JsonObject patchObject && target[key] is JsonObject targetObject)
            {
                Apply(targetObject, patchObject);
            }
            else if (value is JsonObject newObject)
            {
                var copy = new JsonObject();
                Apply(copy, newObject); // nulls inside a new object are dropped, as the hub does
                target[key] = copy;
            }
            else
            {
                target[key] = value.DeepClone();
            }
        }
    }
}
