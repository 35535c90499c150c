using Akka.Actor;
using Akka.Dispatch;
using Akka.Event;
using FleetSim.Protocol;

namespace FleetSim.Simulator.Logging;

/// <summary>
/// The run's Akka logger when a scenario names debugDevices (and of every process of a cluster run): every event (those devices' transitions and errors
/// among them) goes to debug.log in the report folder, redacted; warnings and errors still go to the console, as
/// without debugging. Each line is flushed, so a crash loses nothing already logged.
/// </summary>
public sealed class DebugFileLogger : ReceiveActor, IRequiresMessageQueue<ILoggerMessageQueueSemantics>
{
    /// <summary>HOCON key naming the file (set by the run).</summary>
    public const string PathSetting = "fleetsim.debug-log";

    public const string FileName = "debug.log";

    private StreamWriter? _writer;

    public DebugFileLogger()
    {
        Receive<InitializeLogger>(_ =>
        {
            var path = Context.System.Settings.Config.GetString(PathSetting, null);
            if (!string.IsNullOrEmpty(path))
            {
                Directory.CreateDirectory(Path.GetDirectoryName(Path.GetFullPath(path))!);
                _writer = new StreamWriter(path, append: true) { AutoFlush = true };
            }

            Sender.Tell(new LoggerInitialized());
        });
        Receive<LogEvent>(Write);
    }

    private void Write(LogEvent e)
    {
        var line = Redaction.Redact($"{e.Timestamp:yyyy-MM-ddTHH:mm:ss.fffZ} {Level(e.LogLevel())} {e.LogSource}: {e.Message}{(e.Cause is null ? "" : " (" + e.Cause.GetType().Name + ": " + e.Cause.Message + ")")}");
        _writer?.WriteLine(line);
        if (e.LogLevel() >= LogLevel.WarningLevel)
            Console.Error.WriteLine(ConsoleLine(line));
    }

    /// <summary>
    /// The console gets one line per event: some Akka messages embed a cause's stack trace (Akka.Remote's association
    /// errors did at the end of a 30,000-device run); a debug log, when there is one, keeps the whole text.
    /// </summary>
    public static string ConsoleLine(string line)
    {
        var end = line.IndexOfAny(['\r', '\n']);
        return end < 0 ? line : line[..end].TrimEnd() + " [...]";
    }

    private static string Level(LogLevel level) => level switch
    {
        LogLevel.DebugLevel => "DEBUG",
        LogLevel.InfoLevel => "INFO",
        LogLevel.WarningLevel => "WARN",
        _ => "ERROR",
    };

    protected override void PostStop()
    {
        _writer?.Dispose();
        base.PostStop();
    }
}
