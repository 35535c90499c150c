'use strict';
// The official Node device SDK fleet for the peer benchmark (bench/FleetSim.Bench, `peer`): N azure-iot-device
// clients over MQTT (azure-iot-device-mqtt) in this one process, created from connection strings the way an
// application creates them, the hub's CA handed over with setOptions({ ca }). Each device sends one QoS 1 message
// per period (the same JSON payload and content type as FleetSim's default) from its own timer chain; `spread`
// offsets device i by i/N of the period, `aligned` sends them all at each period boundary. Latency is from the
// intended send time to sendEvent's completion (the PUBACK); lag is from the intended time to the sendEvent call.
//
// Arguments (the same as the .NET generators): --devices-file F ("id key" lines) --host-name H --port P --ca PEM
// --seconds S --rate R (messages per second per device) --connect-rate C (0: all at once) --mode spread|aligned.
// Lines on stdout: STARTING <rss bytes>, READY (all connected), WINDOW_END, RESULT {json}.
//
// The SDK always connects to port 8883 of HostName. When the hub listens elsewhere (--port), tls.connect calls for
// {host}:8883 are sent to that port (a local port forward inside this process; the SDK code, the TLS server name
// and the certificate checks are unchanged), as tests/Conformance/node/lib/port-map.js does. The same wrapper notes
// when each connection was dialled, connected and secured (RESULT's note: where the connect time goes).

const fs = require('fs');
const tls = require('tls');
const { performance } = require('perf_hooks');

const argv = process.argv.slice(2);
function arg(name, fallback) {
  const i = argv.indexOf(name);
  if (i >= 0 && i + 1 < argv.length) {
    return argv[i + 1];
  }
  if (fallback === undefined) {
    process.stderr.write(`fleet.js: missing ${name}\n`);
    process.exit(2);
  }
  return fallback;
}

const devicesFile = arg('--devices-file');
const hostName = arg('--host-name');
const port = Number(arg('--port', '8883'));
const caPem = fs.readFileSync(arg('--ca'), 'utf8');
const seconds = Number(arg('--seconds', '60'));
const rate = Number(arg('--rate', '1'));
const connectRate = Number(arg('--connect-rate', '0'));
const aligned = arg('--mode', 'spread') === 'aligned';

// Where the connect time goes: when each TLS connection was dialled, had its TCP connection, finished its handshake
// (ms from the start of the connects), and when each open() resolved (after the CONNACK). Reported in RESULT's note.
const phases = { dial: [], tcp: [], tls: [], open: [] };
let connectStart = null;
const originalConnect = tls.connect;
tls.connect = function connectWithPortMap(...args) {
  if (port !== 8883 && args[0] !== null && typeof args[0] === 'object') {
    const o = args[0];
    if (String(o.host || o.hostname || '').toLowerCase() === hostName.toLowerCase() && Number(o.port) === 8883) {
      args[0] = Object.assign({}, o, { port });
    }
  }
  const socket = originalConnect.apply(this, args);
  if (connectStart !== null) {
    const since = () => performance.now() - connectStart;
    phases.dial.push(since());
    socket.once('connect', () => phases.tcp.push(since()));
    socket.once('secureConnect', () => phases.tls.push(since()));
  }
  return socket;
};

function phaseNote() {
  const s = (values, p) => {
    const v = percentile(values, p);
    return v === null ? 'n/a' : (v / 1000).toFixed(2);
  };
  return Object.entries(phases)
    .map(([name, values]) => `${name} p50/p100 ${s(values, 50)}/${s(values, 100)} s (${values.length})`)
    .join(', ');
}

const { Client, Message } = require('azure-iot-device');
const { Mqtt } = require('azure-iot-device-mqtt');

const payload = Buffer.from('{"temperature":21.5,"humidity":48}');
const devices = fs.readFileSync(devicesFile, 'utf8').split('\n').filter(Boolean).map((l) => l.split(' '));
const n = devices.length;

function rss() {
  const m = /VmRSS:\s+(\d+) kB/.exec(fs.readFileSync('/proc/self/status', 'utf8'));
  return m ? Number(m[1]) * 1024 : 0;
}

function percentile(values, p) {
  if (values.length === 0) {
    return null;
  }
  const sorted = Float64Array.from(values).sort();
  const index = Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1));
  return sorted[index];
}

const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

async function main() {
  const clients = devices.map(([id, key]) => Client.fromConnectionString(`HostName=${hostName};DeviceId=${id};SharedAccessKey=${key}`, Mqtt));
  process.stdout.write(`STARTING ${rss()}\n`);
  const t0 = performance.now();
  connectStart = t0;
  let retries = 0;
  let connected = 0;
  await Promise.all(clients.map(async (client, i) => {
    if (connectRate > 0) {
      await sleep(t0 + (i / connectRate) * 1000 - performance.now());
    }
    await client.setOptions({ ca: caPem });
    for (let attempt = 0; ; attempt++) {
      try {
        await client.open();
        phases.open.push(performance.now() - t0);
        connected++;
        return;
      } catch (err) {
        if (attempt >= 30) {
          throw err;
        }
        retries++;
        await sleep(500 + Math.random() * 1000);
      }
    }
  }));
  const connectSeconds = (performance.now() - t0) / 1000;
  connectStart = null;
  const connectNote = `connect phases (from the start of the connects): ${phaseNote()}`;
  process.stdout.write('READY\n');

  const latencies = [];
  const lags = [];
  let sent = 0;
  let acked = 0;
  let failed = 0;
  const period = 1000 / rate;
  const windowStart = performance.now();
  const windowEnd = windowStart + seconds * 1000;
  const pending = [];

  function schedule(client, i, k) {
    const intended = windowStart + k * period + (aligned ? 0 : (i * period) / n);
    if (intended >= windowEnd) {
      return;
    }
    setTimeout(() => {
      const now = performance.now();
      lags.push(now - intended);
      sent++;
      const message = new Message(payload);
      message.contentType = 'application/json';
      message.contentEncoding = 'utf-8';
      pending.push(client.sendEvent(message).then(() => {
        acked++;
        latencies.push(performance.now() - intended);
      }, () => {
        failed++;
      }));
      schedule(client, i, k + 1);
    }, Math.max(0, intended - performance.now()));
  }

  clients.forEach((client, i) => schedule(client, i, 0));
  if (seconds > 0) {
    await sleep(windowEnd - performance.now());
  }
  const windowSeconds = (performance.now() - windowStart) / 1000;
  process.stdout.write('WINDOW_END\n');
  await Promise.race([Promise.all(pending), sleep(30000)]);

  const result = {
    devices: n,
    connected,
    connectSeconds,
    connectRetries: retries,
    sent,
    acked,
    failed,
    windowSeconds,
    p50Ms: percentile(latencies, 50),
    p99Ms: percentile(latencies, 99),
    lagP50Ms: percentile(lags, 50),
    lagP99Ms: percentile(lags, 99),
    stormSeconds: null,
    note: connectNote,
  };
  await Promise.all(clients.map((c) => c.close().catch(() => {})));
  process.stdout.write(`RESULT ${JSON.stringify(result)}\n`);
  process.exit(0);
}

main().catch((err) => {
  process.stderr.write(`fleet.js failed: ${err && err.message ? err.message : err}\n`);
  process.exit(3);
});
