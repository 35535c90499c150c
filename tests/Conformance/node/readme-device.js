// The README's "Use the emulator with the official SDKs" example, byte for byte (see docs/conformance-notes.md).
const fs = require('fs');
const { Registry } = require('azure-iothub');
const { Client, Message } = require('azure-iot-device');
const { Mqtt } = require('azure-iot-device-mqtt');

const hub = JSON.parse(fs.readFileSync(process.argv[2], 'utf8'));

async function main() {
  // Register a device through the hub's REST API (HTTPS on 443); the hub generates its keys.
  const registry = Registry.fromConnectionString(hub.serviceConnectionString);
  const deviceId = `sdk-demo-${Date.now()}`;
  const { responseBody: device } = await registry.create({ deviceId });

  // Connect it over MQTT/TLS, trusting the emulator's CA. GatewayHostName only if MQTT is not on 8883.
  let cs = `HostName=${hub.hostName};DeviceId=${deviceId};SharedAccessKey=${device.authentication.symmetricKey.primaryKey}`;
  if (hub.mqttPort !== 8883) cs += `;GatewayHostName=${hub.hostName}:${hub.mqttPort}`;
  const client = Client.fromConnectionString(cs, Mqtt);
  await client.setOptions({ ca: fs.readFileSync(hub.caCertificatePath, 'utf8') });
  await client.open();

  await client.sendEvent(new Message(JSON.stringify({ temperature: 21.5 })));
  const twin = await client.getTwin();
  await new Promise((resolve, reject) => twin.properties.reported.update({ firmware: '1.0.0' }, (e) => (e ? reject(e) : resolve())));
  const seen = (await registry.getTwin(deviceId)).responseBody.properties.reported;
  console.log(`${deviceId}: telemetry sent; the service sees reported firmware ${seen.firmware} ($version ${seen.$version})`);
  await client.close();
}

main().catch((err) => { console.error(`failed: ${err.name}: ${err.message}`); process.exit(1); });
