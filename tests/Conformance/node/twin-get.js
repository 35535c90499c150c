'use strict';
// Case: the device reads its twin over MQTT ($iothub/twin/GET). Inputs: FLEETSIM_DEVICE_CS, FLEETSIM_CA_PATH.
const { run, step, emit, check, input, closeQuietly, within } = require('./lib/harness');
const { openDevice } = require('./lib/clients');

run(async () => {
  step('open');
  const client = await openDevice(input('FLEETSIM_DEVICE_CS'));

  step('getTwin');
  const twin = await within(client.getTwin(), 15000, 'getTwin');
  const desired = Object.assign({}, twin.properties.desired);
  const reported = Object.assign({}, twin.properties.reported);
  delete reported.update; // the SDK's method, not twin content
  emit('twin', { desired, reported });
  check(Number.isInteger(desired.$version) && desired.$version >= 1, 'desired.$version missing', { desired });
  check(Number.isInteger(reported.$version) && reported.$version >= 1, 'reported.$version missing', { reported });

  step('close');
  await closeQuietly(client);
});
