namespace FleetSim.HubEmulator.Registry;

/// <summary>IoT Hub's device id rule: up to 128 ASCII letters, digits and <c>- . % _ * ? ! ( ) , : = @ $ '</c>.</summary>
internal static class DeviceIds
{
    private const string Allowed = "-.%_*?!(),:=@$'";

    public static bool IsValid(string? deviceId, out string? error)
    {
        if (string.IsNullOrEmpty(deviceId))
        {
            error = "deviceId is empty: expected 1 to 128 ASCII letters, digits or - . % _ * ? ! ( ) , : = @ $ '.";
            return false;
        }

        if (deviceId.Length > 128)
        {
            error = $"deviceId is {deviceId.Length} characters long: at most 128 are allowed.";
            return false;
        }

        foreach (var c in deviceId)
        {
            if (!char.IsAsciiLetterOrDigit(c) && !Allowed.Contains(c))
            {
                error = $"deviceId '{deviceId}' contains '{c}': only ASCII letters, digits and - . % _ * ? ! ( ) , : = @ $ ' are allowed.";
                return false;
            }
        }

        error = null;
        return true;
    }
}
