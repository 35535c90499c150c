using System.Collections;
using System.Diagnostics;
using System.Runtime.InteropServices;
using System.Text;

namespace FleetSim.Simulator.Memory;

/// <summary>
/// Runs fleetsim with glibc's malloc arenas capped at 2 (<c>MALLOC_ARENA_MAX=2</c>). Every TLS connection allocates
/// its OpenSSL state through malloc on whichever thread-pool thread runs the handshake or the read; with glibc's
/// default of 8 arenas per core, memory freed when connections close stays behind in many half-empty arenas, and
/// under reconnect churn the resident set grows while the memory in use does not (bench/README.md, soak).
/// <para>
/// glibc reads the variable only when a process starts, and capping later from inside (<c>mallopt</c>) is too late:
/// the runtime's start-up threads have made about 5 arenas by the time Main runs, and the 30-minute soak measured
/// that still growing. So the first thing Main does on Linux with glibc, when the user chose no arena setting
/// (<c>MALLOC_ARENA_MAX</c>, or <c>arena_max</c> in <c>GLIBC_TUNABLES</c>: the user's setting wins), is to replace
/// the process by itself with the variable set (<c>execve</c> of /proc/self/exe with the same arguments: same PID,
/// same open files, so a parent, a terminal or a process manager sees no difference). If that cannot be done (a
/// debugger is attached, execve fails) it caps in-process as the fallback.
/// </para>
/// </summary>
public static class MallocArenas
{
    public const int Limit = 2;
    public const string Variable = "MALLOC_ARENA_MAX";
    private const int MArenaMax = -8; // malloc.h: M_ARENA_MAX

    /// <summary>
    /// Called first thing in Main. Returns only when this process was not replaced: on other platforms or C
    /// libraries, when the user chose a setting (or the variable is already there: this is the replaced process),
    /// or when the restart failed (then the cap is applied in-process).
    /// </summary>
    public static void Apply()
    {
        if (!OperatingSystem.IsLinux() || UserChose(Environment.GetEnvironmentVariable) || !IsGlibc())
            return;

        if (!Debugger.IsAttached)
            RestartWithCap(); // returns only if execve failed

        CapInProcess();
    }

    /// <summary>True when the environment already sets the arena count (the user's choice, or our own restart).</summary>
    public static bool UserChose(Func<string, string?> environment) =>
        environment(Variable) is not null
        || environment("GLIBC_TUNABLES")?.Contains("arena_max", StringComparison.Ordinal) == true;

    /// <summary>argv for execve from /proc/self/cmdline (NUL-separated, NUL-terminated), with the closing null.</summary>
    public static string?[] Arguments(byte[] cmdline)
    {
        var parts = Encoding.UTF8.GetString(cmdline).Split('\0');
        var count = parts.Length;
        if (count > 0 && parts[count - 1].Length == 0)
            count--; // the terminating NUL
        var argv = new string?[count + 1];
        Array.Copy(parts, argv, count);
        return argv;
    }

    /// <summary>envp for execve: this process's environment plus the cap, with the closing null.</summary>
    public static string?[] EnvironmentWithCap(IDictionary environment)
    {
        var envp = new List<string?>(environment.Count + 2);
        foreach (DictionaryEntry entry in environment)
            envp.Add($"{entry.Key}={entry.Value}");
        envp.Add($"{Variable}={Limit}");
        envp.Add(null);
        return [.. envp];
    }

    private static void RestartWithCap()
    {
        try
        {
            var argv = Arguments(File.ReadAllBytes("/proc/self/cmdline"));
            if (argv.Length < 2)
                return;
            var envp = EnvironmentWithCap(Environment.GetEnvironmentVariables());
            RemoveRuntimeTempFiles();
            ExecVe("/proc/self/exe", argv, envp);
            // Still here: execve failed; run on with the in-process cap.
        }
        catch (Exception e) when (e is not OutOfMemoryException)
        {
            // Best effort: whatever stopped the restart, run on with the in-process cap.
        }
    }

    /// <summary>
    /// The runtime made its diagnostics socket and debugger pipes under this PID; execve keeps the PID and ends this
    /// runtime without its clean-up, so remove them first (the new runtime makes its own).
    /// </summary>
    private static void RemoveRuntimeTempFiles()
    {
        var temp = Environment.GetEnvironmentVariable("TMPDIR") is { Length: > 0 } t ? t : "/tmp";
        var pid = Environment.ProcessId;
        foreach (var pattern in new[] { $"dotnet-diagnostic-{pid}-*-socket", $"clr-debug-pipe-{pid}-*" })
        {
            try
            {
                foreach (var file in Directory.EnumerateFiles(temp, pattern))
                    File.Delete(file);
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException)
            {
                // Not ours to worry about: at worst a stale file in the temp folder.
            }
        }
    }

    private static void CapInProcess()
    {
        try
        {
            MallOpt(MArenaMax, Limit);
        }
        catch (Exception e) when (e is EntryPointNotFoundException or DllNotFoundException)
        {
        }
    }

    private static bool IsGlibc()
    {
        try
        {
            return GnuGetLibcVersion() != IntPtr.Zero;
        }
        catch (Exception e) when (e is EntryPointNotFoundException or DllNotFoundException)
        {
            return false; // musl has no arenas to cap
        }
    }

#pragma warning disable SYSLIB1054 // start-up calls; LibraryImport would need unsafe code enabled
    [DllImport("libc", EntryPoint = "mallopt")]
    private static extern int MallOpt(int param, int value);

    [DllImport("libc", EntryPoint = "gnu_get_libc_version")]
    private static extern IntPtr GnuGetLibcVersion();

    [DllImport("libc", EntryPoint = "execve", SetLastError = true)]
    private static extern int ExecVe([MarshalAs(UnmanagedType.LPStr)] string path, // LPStr is UTF-8 on Unix
        [MarshalAs(UnmanagedType.LPArray, ArraySubType = UnmanagedType.LPStr)] string?[] argv,
        [MarshalAs(UnmanagedType.LPArray, ArraySubType = UnmanagedType.LPStr)] string?[] envp);
#pragma warning restore SYSLIB1054
}
