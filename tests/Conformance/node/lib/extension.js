'use strict';
// Calls to the emulator's own HTTPS extensions (not part of the IoT Hub API, so no SDK has them), made with
// Node's https module and the same service SAS the service SDK would send.
const https = require('https');
const { ConnectionString, SharedAccessSignature } = require('azure-iothub');
const { input } = require('./harness');

function serviceToken() {
  const cs = ConnectionString.parse(input('FLEETSIM_SERVICE_CS'));
  const expiry = Math.floor(Date.now() / 1000) + 600;
  return { host: cs.HostName, token: SharedAccessSignature.create(cs.HostName, cs.SharedAccessKeyName, cs.SharedAccessKey, expiry).toString() };
}

/**
 * Resolves { statusCode, headers, body } (body parsed as JSON when it is JSON). `payload` is a Buffer sent as is;
 * `headers` are added. Goes to port 443 of the hub host, like the SDKs (see lib/port-map.js).
 */
function request(method, path, payload, headers) {
  const { host, token } = serviceToken();
  return new Promise((resolve, reject) => {
    const req = https.request({
      host,
      path,
      method,
      headers: Object.assign({ Authorization: token, Accept: 'application/json' },
        payload ? { 'Content-Length': payload.length } : {}, headers || {}),
    }, (res) => {
      const chunks = [];
      res.on('data', (c) => chunks.push(c));
      res.on('end', () => {
        const text = Buffer.concat(chunks).toString('utf8');
        let parsed = text;
        try {
          parsed = text ? JSON.parse(text) : null;
        } catch (_) {
          // not JSON: keep the text
        }
        resolve({ statusCode: res.statusCode, headers: res.headers, body: parsed });
      });
    });
    req.on('error', reject);
    if (payload) {
      req.write(payload);
    }
    req.end();
  });
}

module.exports = { request };
