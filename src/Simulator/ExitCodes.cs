namespace FleetSim.Simulator;

/// <summary>The process exit codes of every fleetsim command.</summary>
public static class ExitCodes
{
    public const int Ok = 0;
    public const int ThresholdsFailed = 1;
    public const int BadInput = 2;
    public const int RunFailed = 3;
}
