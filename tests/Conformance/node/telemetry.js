'use strict';
// Case: telemetry with system properties (messageId, correlationId, contentType, contentEncoding) and
// application properties, including FleetSim's sequence number "fleetsim-seq" that the hub counts, and values
// that need URL encoding. The harness checks hub-side what arrived. Inputs: FLEETSIM_DEVICE_CS,
// FLEETSIM_CA_PATH, FLEETSIM_MESSAGE_COUNT (default 3).
const { Message } = require('azure-iot-device');
const { run, step, emit, check, input, closeQuietly, within } = require('./lib/harness');
const { openDevice } = require('./lib/clients');

run(async () => {
  const count = Number(input('FLEETSIM_MESSAGE_COUNT', '3'));
  check(Number.isInteger(count) && count > 0, 'FLEETSIM_MESSAGE_COUNT must be a positive integer');

  step('open');
  const client = await openDevice(input('FLEETSIM_DEVICE_CS'));

  for (let seq = 1; seq <= count; seq++) {
    step('send', { seq });
    const body = JSON.stringify({ temperature: 20 + seq, unit: 'C' });
    const message = new Message(body);
    message.messageId = `conformance-msg-${seq}`;
    message.correlationId = `conformance-corr-${seq}`;
    message.contentType = 'application/json';
    message.contentEncoding = 'utf-8';
    message.properties.add('fleetsim-seq', String(seq));
    message.properties.add('fleetsim-sent', String(Date.now()));
    message.properties.add('color', 'blue');
    message.properties.add('needs encoding', 'a/b=c&d e');
    const result = await within(client.sendEvent(message), 15000, `sendEvent ${seq}`);
    emit('sent', {
      seq,
      messageId: message.messageId,
      correlationId: message.correlationId,
      bodyBytes: Buffer.byteLength(body),
      result: result && result.constructor && result.constructor.name,
    });
  }

  step('close');
  await closeQuietly(client);
});
