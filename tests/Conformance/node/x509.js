'use strict';
// Case: an X.509 device as the Node SDK makes one: a connection string with x509=true, its certificate and key
// through setOptions({ cert, key }), then telemetry over MQTT/TLS and a file upload whose HTTPS calls the hub
// authenticates by the TLS client certificate (no SAS). Inputs: FLEETSIM_DEVICE_CS (x509=true),
// FLEETSIM_CERT_PATH, FLEETSIM_KEY_PATH, FLEETSIM_CA_PATH, FLEETSIM_BLOB_NAME, FLEETSIM_BLOB_TEXT.
const fs = require('fs');
const { Readable } = require('stream');
const { Message } = require('azure-iot-device');
const { run, step, emit, input, closeQuietly, within } = require('./lib/harness');
const { openDevice } = require('./lib/clients');

run(async () => {
  const cert = fs.readFileSync(input('FLEETSIM_CERT_PATH'), 'utf8');
  const key = fs.readFileSync(input('FLEETSIM_KEY_PATH'), 'utf8');

  step('open');
  const client = await openDevice(input('FLEETSIM_DEVICE_CS'), { options: { cert, key } });

  step('send');
  const message = new Message(JSON.stringify({ x509: true }));
  message.properties.add('fleetsim-seq', '1');
  await within(client.sendEvent(message), 15000, 'sendEvent');
  emit('sent', { seq: 1 });

  step('uploadToBlob');
  const content = Buffer.from(input('FLEETSIM_BLOB_TEXT'), 'utf8');
  await within(client.uploadToBlob(input('FLEETSIM_BLOB_NAME'), Readable.from([content]), content.length), 30000, 'uploadToBlob');
  emit('uploaded', { bytes: content.length });

  step('close');
  await closeQuietly(client);
});
