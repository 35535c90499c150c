'use strict';
// Case: the device patches reported properties over MQTT; the service SDK's twin GET then shows them with the
// next reported $version and $metadata ($lastUpdated at every level; IoT Hub puts $lastUpdatedVersion in desired
// metadata only). A second patch removes a key with null and restamps only what it wrote. Inputs: FLEETSIM_DEVICE_CS, FLEETSIM_CA_PATH, FLEETSIM_SERVICE_CS, FLEETSIM_DEVICE_ID.
const { run, step, emit, check, input, closeQuietly, within } = require('./lib/harness');
const { openDevice, registry } = require('./lib/clients');

function updateReported(twin, patch) {
  return new Promise((resolve, reject) => twin.properties.reported.update(patch, (err) => (err ? reject(err) : resolve())));
}

run(async () => {
  const deviceId = input('FLEETSIM_DEVICE_ID');
  const reg = registry();

  step('open');
  const client = await openDevice(input('FLEETSIM_DEVICE_CS'));
  step('getTwin');
  const twin = await within(client.getTwin(), 15000, 'getTwin');
  const startVersion = twin.properties.reported.$version;
  emit('deviceTwin', { reportedVersion: startVersion });

  step('patchReported');
  await within(updateReported(twin, { firmware: { version: '1.2.3' }, temperature: 21.5, toRemove: 'x' }), 15000, 'reported patch');
  step('serviceGetTwin');
  const afterFirst = (await reg.getTwin(deviceId)).responseBody;
  const reported = afterFirst.properties.reported;
  const metadata = reported.$metadata || {};
  emit('serviceTwin', {
    reported: Object.assign({}, reported, { $metadata: undefined }),
    metadata,
    etag: afterFirst.etag,
    version: afterFirst.version,
  });
  check(reported.firmware && reported.firmware.version === '1.2.3', 'reported.firmware.version not visible to the service');
  check(reported.temperature === 21.5, 'reported.temperature not visible to the service');
  check(reported.$version === startVersion + 1, `reported.$version is ${reported.$version}, expected ${startVersion + 1}`);
  check(typeof metadata.$lastUpdated === 'string' && !isNaN(Date.parse(metadata.$lastUpdated)), '$metadata.$lastUpdated missing');
  check(metadata.firmware && typeof metadata.firmware.$lastUpdated === 'string' && metadata.firmware.version
    && typeof metadata.firmware.version.$lastUpdated === 'string', '$metadata.firmware(.version).$lastUpdated missing', { metadata });
  check(metadata.temperature && typeof metadata.temperature.$lastUpdated === 'string', '$metadata.temperature.$lastUpdated missing', { metadata });

  step('patchReportedRemove');
  await within(updateReported(twin, { toRemove: null, temperature: 22 }), 15000, 'second reported patch');
  const afterSecond = (await reg.getTwin(deviceId)).responseBody.properties.reported;
  const metadata2 = afterSecond.$metadata || {};
  emit('serviceTwinAfterRemove', { reported: Object.assign({}, afterSecond, { $metadata: undefined }), metadata: metadata2 });
  check(!('toRemove' in afterSecond), 'a null in the patch did not remove the key');
  check(afterSecond.temperature === 22 && afterSecond.firmware.version === '1.2.3', 'the second patch was not merged');
  check(afterSecond.$version === startVersion + 2, `reported.$version is ${afterSecond.$version}, expected ${startVersion + 2}`);
  check(!('toRemove' in metadata2), 'the removed key kept its $metadata', { metadata: metadata2 });
  check(metadata2.firmware.version.$lastUpdated === metadata.firmware.version.$lastUpdated, 'an untouched key was restamped', { metadata: metadata2 });
  check(Date.parse(metadata2.temperature.$lastUpdated) >= Date.parse(metadata.temperature.$lastUpdated), 'temperature was not restamped');

  step('close');
  await closeQuietly(client);
});
