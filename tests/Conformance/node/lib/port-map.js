'use strict';
// Loaded with `node --require ./lib/port-map.js` by the test harness only.
//
// The Node SDKs send every HTTPS request (service REST API, file upload) and MQTT over WebSockets to port 443
// of the hub's HostName: `https.request` gets the HostName as its host and no port, and MqttWs builds
// `wss://{host}:443/$iothub/websocket`. A `:port` in HostName does not help (Node resolves "localhost:1234"
// as a host name and fails with ENOTFOUND). The emulator serves those on its HTTPS port, which the tests pick
// freely, so this module redirects TLS connections for `{host}:443` to `{host}:{port}` inside this process,
// like a local port forward. It changes nothing else: the SDK code, the TLS server name and certificate checks,
// and the HTTP Host header stay exactly as the SDK makes them. With the emulator on its default ports
// (`fleetsim hub` listens on 8883 and 443) no mapping is needed.
//
// FLEETSIM_PORT_MAP: comma-separated `host:port=targetPort`, e.g. `localhost:443=40123`.

const tls = require('tls');

const spec = process.env.FLEETSIM_PORT_MAP || '';
const map = new Map();
for (const entry of spec.split(',').map((s) => s.trim()).filter(Boolean)) {
  const match = /^([^:=\s]+):(\d+)=(\d+)$/.exec(entry);
  if (!match) {
    process.stderr.write(`port-map: ignoring malformed FLEETSIM_PORT_MAP entry '${entry}' (expected host:port=targetPort)\n`);
    continue;
  }
  map.set(`${match[1].toLowerCase()}:${Number(match[2])}`, Number(match[3]));
}

if (map.size > 0) {
  const originalConnect = tls.connect;
  tls.connect = function connectWithPortMap(...args) {
    // tls.connect(options[, cb]) is the form https.Agent and ws use; tls.connect(port[, host][, options][, cb]) otherwise.
    if (args[0] !== null && typeof args[0] === 'object') {
      const options = args[0];
      const host = String(options.host || options.hostname || 'localhost').toLowerCase();
      const port = Number(options.port || 443);
      const target = map.get(`${host}:${port}`);
      if (target !== undefined) {
        args[0] = Object.assign({}, options, { port: target });
      }
    } else if (typeof args[0] === 'number' || typeof args[0] === 'string') {
      const host = typeof args[1] === 'string' ? args[1].toLowerCase() : 'localhost';
      const target = map.get(`${host}:${Number(args[0])}`);
      if (target !== undefined) {
        args[0] = target;
      }
    }
    return originalConnect.apply(this, args);
  };
}
