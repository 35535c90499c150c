'use strict';
// Case: a device connects with its connection string (GatewayHostName carries the MQTT port) once the hub's CA
// is given with setOptions({ ca }). First without the CA, to show the TLS check is real. The harness runs this
// script WITHOUT NODE_EXTRA_CA_CERTS. Inputs: FLEETSIM_DEVICE_CS, FLEETSIM_CA_PATH.
const { run, step, emit, check, input, errorFields, closeQuietly, within } = require('./lib/harness');
const { DeviceClient, Mqtt } = require('./lib/clients');

run(async () => {
  const cs = input('FLEETSIM_DEVICE_CS');
  const caPath = input('FLEETSIM_CA_PATH');

  step('openWithoutCa');
  const untrusting = DeviceClient.fromConnectionString(cs, Mqtt);
  let refused = null;
  try {
    await within(untrusting.open(), 20000, 'open without CA');
  } catch (err) {
    if (err.name === 'CaseFailure') {
      throw err;
    }
    refused = err;
  }
  check(refused !== null, 'the device connected without trusting the hub CA');
  emit('refusedWithoutCa', errorFields(refused));
  check(/certificate|self.signed|verify/i.test(refused.message), 'the refusal was not a certificate error', errorFields(refused));
  await closeQuietly(untrusting);

  step('openWithCa');
  const client = DeviceClient.fromConnectionString(cs, Mqtt);
  await client.setOptions({ ca: caPath }); // the path form: the SDK reads the file for MQTT
  const connected = await within(client.open(), 20000, 'open with CA');
  emit('connected', { result: connected && connected.constructor && connected.constructor.name });

  step('close');
  await within(client.close(), 10000, 'close');
  emit('closed');
});
