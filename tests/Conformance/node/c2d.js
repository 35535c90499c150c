'use strict';
// Case: cloud-to-device. The service SDK sends C2D over AMQP only, which the emulator does not speak, so the
// message goes in through the emulator's extension POST /devices/{id}/messages/deviceBound (body = message
// body, iothub-* headers = system properties incl. iothub-contenttype/-contentencoding, iothub-app-* =
// application properties). The official device SDK must receive it on devices/{id}/messages/devicebound/#,
// with its properties, and complete it (MQTT PUBACK).
//   node c2d.js online    the device is connected and subscribed when the message is sent
//   node c2d.js offline   the message is sent while the device is disconnected; it arrives on the next connect
// Inputs: FLEETSIM_DEVICE_CS, FLEETSIM_CA_PATH, FLEETSIM_SERVICE_CS, FLEETSIM_DEVICE_ID.
const { run, step, emit, check, input, caPem, closeQuietly, within, nextEvent } = require('./lib/harness');
const { openDevice, DeviceClient, Mqtt } = require('./lib/clients');
const { request } = require('./lib/extension');

const mode = process.argv[2] || 'online';

function send(deviceId, body) {
  return within(request('POST', `/devices/${encodeURIComponent(deviceId)}/messages/deviceBound?api-version=2021-04-12`, body, {
    'Content-Type': 'application/octet-stream',
    'iothub-contenttype': 'application/json',
    'iothub-contentencoding': 'utf-8',
    'iothub-messageid': 'conformance-c2d-1',
    'iothub-correlationid': 'conformance-c2d-corr',
    'iothub-ack': 'full',
    'iothub-app-priority': 'high',
    'iothub-app-path': 'a/b c',
  }), 10000, 'POST deviceBound');
}

run(async () => {
  check(['online', 'offline'].includes(mode), `usage: node c2d.js online|offline (got '${mode}')`);
  const deviceId = input('FLEETSIM_DEVICE_ID');
  const cs = input('FLEETSIM_DEVICE_CS');
  const body = Buffer.from(JSON.stringify({ command: 'blink', times: 3 }), 'utf8');
  let client;
  let received;

  if (mode === 'online') {
    step('open');
    client = await openDevice(cs);
    step('subscribe');
    received = nextEvent(client, 'message', 15000);
    // on('message') subscribes in the background; a twin round trip on the same connection orders after it.
    await within(client.getTwin(), 15000, 'sync round trip');
  } else {
    step('subscribeThenDisconnect');
    const first = await openDevice(cs);
    first.on('message', () => {});
    await within(first.getTwin(), 15000, 'sync round trip');
    await within(first.close(), 10000, 'close');
    emit('disconnected');
  }

  step('send');
  const sent = await send(deviceId, body);
  emit('sent', { statusCode: sent.statusCode, messageId: sent.headers['iothub-messageid'], body: sent.body });
  check(sent.statusCode >= 200 && sent.statusCode < 300, `the extension answered ${sent.statusCode}`, { body: sent.body });

  if (mode === 'offline') {
    step('reconnect');
    client = DeviceClient.fromConnectionString(cs, Mqtt);
    await client.setOptions({ ca: caPem() });
    // Listen before connecting: with clean session 0 the hub may deliver the queued message right after CONNACK,
    // and the SDK drops (but acknowledges) a message nobody listens for. Registering the listener connects.
    received = nextEvent(client, 'message', 15000);
  }

  step('receive');
  const message = await received;
  const properties = {};
  for (let i = 0; i < message.properties.count(); i++) {
    const p = message.properties.getItem(i);
    properties[p.key] = p.value;
  }
  const data = message.getData().toString('utf8');
  emit('received', {
    data,
    messageId: message.messageId,
    correlationId: message.correlationId,
    contentType: message.contentType,
    contentEncoding: message.contentEncoding,
    properties,
  });
  check(data === body.toString('utf8'), 'the body changed on the way');
  check(message.messageId === 'conformance-c2d-1', `messageId ${message.messageId}`);
  check(message.correlationId === 'conformance-c2d-corr', `correlationId ${message.correlationId}`);
  check(message.contentType === 'application/json' && message.contentEncoding === 'utf-8',
    `content type/encoding ${message.contentType}/${message.contentEncoding}`);
  check(properties.priority === 'high' && properties.path === 'a/b c', 'application properties did not arrive', { properties });

  step('complete');
  const completed = await within(client.complete(message), 10000, 'complete');
  emit('completed', { result: completed && completed.constructor && completed.constructor.name });

  step('close');
  await closeQuietly(client);
});
