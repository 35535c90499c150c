'use strict';
// The official SDK clients, created the way an application creates them: from connection strings, with the
// hub's CA handed to the device client through setOptions({ ca }). Nothing here patches or wraps the SDKs.

const { Client: DeviceClient } = require('azure-iot-device');
const { Mqtt, MqttWs } = require('azure-iot-device-mqtt');
const iothub = require('azure-iothub');
const { input, caPem, within } = require('./harness');

/**
 * Creates a device client and connects it. `ca` defaults to the PEM text of FLEETSIM_CA_PATH: the PEM text, not
 * the path, because DeviceClient.setOptions hands the raw `ca` to the file-upload HTTPS client before it reads
 * the file (see docs/conformance-notes.md).
 */
async function openDevice(connectionString, settings) {
  const s = settings || {};
  const client = DeviceClient.fromConnectionString(connectionString, s.transport || Mqtt);
  await client.setOptions(Object.assign({ ca: s.ca === undefined ? caPem() : s.ca }, s.options || {}));
  await within(client.open(), s.openTimeoutMs || 20000, 'device open');
  return client;
}

function registry() {
  return iothub.Registry.fromConnectionString(input('FLEETSIM_SERVICE_CS'));
}

function serviceClient() {
  return iothub.Client.fromConnectionString(input('FLEETSIM_SERVICE_CS'));
}

/** invokeDeviceMethod as a promise of { result, response } (the SDK's callback form, wrapped). */
function invokeMethod(client, deviceId, params) {
  return new Promise((resolve, reject) => {
    client.invokeDeviceMethod(deviceId, params, (err, result, response) => {
      if (err) {
        reject(err);
      } else {
        resolve({ result, response });
      }
    });
  });
}

module.exports = { openDevice, registry, serviceClient, invokeMethod, DeviceClient, Mqtt, MqttWs, iothub };
