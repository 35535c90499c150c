# syntax=docker/dockerfile:1
# FleetSim in a container: one image for every role (the hub emulator, a run's coordinator, worker nodes).
#   docker build -t fleetsim .
#   docker run --rm fleetsim --help
# docker-compose.yml (hub + coordinator + scalable workers) and deploy/kubernetes/ use it; docs/scaling.md explains them.

# Build stage: the SDK restores and publishes the fleetsim command (framework-dependent, Release).
FROM mcr.microsoft.com/dotnet/sdk:10.0 AS build
WORKDIR /src
# Project files first, so the restore layer is reused while only sources change.
COPY Directory.Build.props Directory.Packages.props .editorconfig ./
COPY src/Protocol/FleetSim.Protocol.csproj src/Protocol/
COPY src/Metrics/FleetSim.Metrics.csproj src/Metrics/
COPY src/DeviceActors/FleetSim.DeviceActors.csproj src/DeviceActors/
COPY src/HubEmulator/FleetSim.HubEmulator.csproj src/HubEmulator/
COPY src/Reporting/FleetSim.Reporting.csproj src/Reporting/
COPY src/Scenarios/FleetSim.Scenarios.csproj src/Scenarios/
COPY src/Cluster/FleetSim.Cluster.csproj src/Cluster/
COPY src/Simulator/FleetSim.Simulator.csproj src/Simulator/
RUN dotnet restore src/Simulator/FleetSim.Simulator.csproj
COPY src/ src/
# The scenario schema is embedded in FleetSim.Scenarios (validation at load time).
COPY scenarios/fleetsim.schema.json scenarios/
RUN dotnet publish src/Simulator/FleetSim.Simulator.csproj --no-restore -c Release -o /app

# Runtime stage: the ASP.NET Core runtime (the emulator and the cluster hosting use its shared framework), no SDK.
FROM mcr.microsoft.com/dotnet/aspnet:10.0 AS runtime
WORKDIR /app
COPY --from=build /app ./
COPY scenarios/ scenarios/
# MALLOC_ARENA_MAX=2: under reconnect churn glibc's default 16 arenas keep what closed TLS connections freed and the
# resident set grows while memory in use does not (bench/README.md, soak: +14.6 against +2.9 MB/min).
ENV DOTNET_CLI_TELEMETRY_OPTOUT=1 \
    MALLOC_ARENA_MAX=2 \
    PATH="/app:${PATH}"
# The image's unprivileged user; the hub listens on 8883/8443 (no root needed), workers on 4053, management on 8558.
USER app
EXPOSE 8883 8443 4053 8558
ENTRYPOINT ["fleetsim"]
CMD ["--help"]
