namespace FleetSim.Simulator.Tests;

/// <summary>
/// Polling with a deadline, for what a test cannot be told about (a file another process writes, a process's output
/// or exit): never a fixed sleep, and a generous limit so a loaded machine only makes the test slower.
/// </summary>
public static class Poll
{
    public static readonly TimeSpan Interval = TimeSpan.FromMilliseconds(100);

    /// <param name="condition">What the test waits for.</param>
    /// <param name="what">The condition in words, for the failure ("the state file").</param>
    /// <param name="limit">How long it may take.</param>
    /// <param name="gaveUp">A reason to fail at once (the process it waits on exited), or null to keep polling.</param>
    /// <param name="detail">More to say on failure (what the process printed).</param>
    public static async Task UntilAsync(Func<bool> condition, string what, TimeSpan limit, Func<string?>? gaveUp = null, Func<string>? detail = null)
    {
        var deadline = DateTime.UtcNow + limit;
        while (!condition())
        {
            if (gaveUp?.Invoke() is { } reason)
                Assert.Fail($"{reason} before {what}{Detail(detail)}");
            Assert.True(DateTime.UtcNow < deadline, $"no {what} within {limit}{Detail(detail)}");
            await Task.Delay(Interval);
        }
    }

    /// <summary>As <see cref="UntilAsync(Func{bool}, string, TimeSpan, Func{string?}?, Func{string}?)"/>, for a condition that asks over the network.</summary>
    public static async Task UntilAsync(Func<Task<bool>> condition, string what, TimeSpan limit, Func<string?>? gaveUp = null, Func<string>? detail = null)
    {
        var deadline = DateTime.UtcNow + limit;
        while (!await condition())
        {
            if (gaveUp?.Invoke() is { } reason)
                Assert.Fail($"{reason} before {what}{Detail(detail)}");
            Assert.True(DateTime.UtcNow < deadline, $"no {what} within {limit}{Detail(detail)}");
            await Task.Delay(Interval);
        }
    }

    private static string Detail(Func<string>? detail) => detail is null ? "" : ":\n" + detail();
}
