'use strict';
// Case: MQTT over WebSockets (MqttWs): wss://{HostName}:443/$iothub/websocket, subprotocol "mqtt". Telemetry
// (counted hub-side) and a twin GET over that connection. MqttWs ignores any port and always uses 443, so the
// connection string has no GatewayHostName; under test the harness maps 443 to the hub's HTTPS port
// (lib/port-map.js). Inputs: FLEETSIM_DEVICE_CS (no GatewayHostName), FLEETSIM_CA_PATH.
const { Message } = require('azure-iot-device');
const { run, step, emit, check, input, closeQuietly, within } = require('./lib/harness');
const { openDevice, MqttWs } = require('./lib/clients');

run(async () => {
  step('open');
  const client = await openDevice(input('FLEETSIM_DEVICE_CS'), { transport: MqttWs });
  emit('connected', { transport: 'MqttWs' });

  step('send');
  const message = new Message(JSON.stringify({ via: 'websocket' }));
  message.messageId = 'conformance-ws-1';
  message.properties.add('fleetsim-seq', '1');
  await within(client.sendEvent(message), 15000, 'sendEvent');
  emit('sent', { seq: 1 });

  step('getTwin');
  const twin = await within(client.getTwin(), 15000, 'getTwin');
  emit('twin', { desiredVersion: twin.properties.desired.$version, reportedVersion: twin.properties.reported.$version });
  check(Number.isInteger(twin.properties.desired.$version), 'no desired $version over WebSockets');

  step('close');
  await closeQuietly(client);
});
