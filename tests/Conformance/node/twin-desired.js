'use strict';
// Case: the service SDK updates desired properties (Registry.updateTwin, If-Match etag); the device's twin
// raises 'properties.desired' with the patch and its $version. Inputs: FLEETSIM_DEVICE_CS, FLEETSIM_CA_PATH,
// FLEETSIM_SERVICE_CS, FLEETSIM_DEVICE_ID.
const { run, step, emit, check, input, closeQuietly, within, nextEvent } = require('./lib/harness');
const { openDevice, registry } = require('./lib/clients');

run(async () => {
  const deviceId = input('FLEETSIM_DEVICE_ID');
  const reg = registry();

  step('open');
  const client = await openDevice(input('FLEETSIM_DEVICE_CS'));
  step('getTwin');
  const twin = await within(client.getTwin(), 15000, 'getTwin');
  const startVersion = twin.properties.desired.$version;

  step('subscribeDesired');
  const patches = [];
  twin.on('properties.desired', (patch) => patches.push(patch));
  const setpointEvent = nextEvent(twin, 'properties.desired.setpoint', 15000, (value) => value === 42);
  // The SDK subscribes in the background with no callback; a round trip on the same connection (the hub
  // handles one connection's packets in order) makes sure the SUBSCRIBE has been handled.
  await within(new Promise((resolve, reject) => twin.properties.reported.update({ ready: true }, (e) => (e ? reject(e) : resolve()))), 15000, 'sync round trip');

  step('serviceUpdateDesired');
  const current = (await reg.getTwin(deviceId)).responseBody;
  const updated = (await reg.updateTwin(deviceId, { properties: { desired: { setpoint: 42, mode: { name: 'eco' } } } }, current.etag)).responseBody;
  const desiredMeta = updated.properties.desired.$metadata || {};
  emit('serviceUpdated', { desiredVersion: updated.properties.desired.$version, etagChanged: updated.etag !== current.etag, metadata: desiredMeta });
  check(updated.properties.desired.setpoint === 42, 'the service twin does not show the desired update');
  check(updated.etag !== current.etag, 'the etag did not change');
  check(desiredMeta.setpoint && desiredMeta.setpoint.$lastUpdatedVersion === updated.properties.desired.$version
    && typeof desiredMeta.setpoint.$lastUpdated === 'string', 'desired $metadata.setpoint lacks $lastUpdated/$lastUpdatedVersion', { metadata: desiredMeta });

  step('awaitDesiredEvent');
  const value = await setpointEvent;
  const patch = patches.find((p) => p.setpoint === 42);
  emit('desiredReceived', { patch, value });
  check(patch && patch.mode && patch.mode.name === 'eco', 'the device patch lacks mode.name', { patch });
  check(patch.$version === updated.properties.desired.$version, `patch $version ${patch.$version} is not the service's ${updated.properties.desired.$version}`);
  check(patch.$version === startVersion + 1, `patch $version ${patch.$version}, expected ${startVersion + 1}`);

  step('close');
  await closeQuietly(client);
});
