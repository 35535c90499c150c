using System.Runtime.InteropServices;

namespace FleetSim.Bench;

/// <summary>
/// What the process holds outside the GC heap, as glibc's allocator and the kernel see it: bytes malloc handed out
/// and not freed (OpenSSL's per-connection state, the runtime's native allocations), bytes free inside malloc's arenas
/// (kept from the OS: fragmentation), and open file descriptors (sockets). A leak grows the first or the last; an
/// allocator that keeps what was freed grows the second.
/// </summary>
internal static class NativeHeap
{
    public readonly record struct Snapshot(long InUseBytes, long FreeBytes, long MmappedBytes, int OpenFiles);

    /// <summary>Null where glibc's mallinfo2 is not available (Windows, macOS, musl, glibc before 2.33).</summary>
    public static Snapshot? Take()
    {
        if (!OperatingSystem.IsLinux())
            return null;
        try
        {
            var info = MallInfo2();
            // uordblks: allocated (arena and mmapped chunks below the threshold); fordblks: free in the arenas; hblkhd: big mmapped chunks.
            return new Snapshot((long)info.Uordblks + (long)info.Hblkhd, (long)info.Fordblks, (long)info.Hblkhd, OpenFiles());
        }
        catch (Exception e) when (e is EntryPointNotFoundException or DllNotFoundException)
        {
            return null;
        }
    }

    private static int OpenFiles()
    {
        try
        {
            return Directory.GetFiles("/proc/self/fd").Length;
        }
        catch (IOException)
        {
            return -1;
        }
    }

    [StructLayout(LayoutKind.Sequential)]
    private struct MallInfo
    {
        public nuint Arena;
        public nuint Ordblks;
        public nuint Smblks;
        public nuint Hblks;
        public nuint Hblkhd;
        public nuint Usmblks;
        public nuint Fsmblks;
        public nuint Uordblks;
        public nuint Fordblks;
        public nuint Keepcost;
    }

    [DllImport("libc", EntryPoint = "mallinfo2")]
#pragma warning disable SYSLIB1054 // a few calls per run; LibraryImport would need unsafe code enabled
    private static extern MallInfo MallInfo2();
#pragma warning restore SYSLIB1054
}
