'use strict';
// Case: azure-iothub Registry creates a device (keys left to the hub) and reads it back; an unknown id is
// DeviceNotFoundError. Inputs: FLEETSIM_SERVICE_CS, FLEETSIM_DEVICE_ID.
const { run, step, emit, check, input } = require('./lib/harness');
const { registry } = require('./lib/clients');

run(async () => {
  const deviceId = input('FLEETSIM_DEVICE_ID');
  const reg = registry();

  step('create');
  const created = (await reg.create({ deviceId, status: 'enabled' })).responseBody;
  const keys = created.authentication && created.authentication.symmetricKey;
  emit('created', {
    deviceId: created.deviceId,
    status: created.status,
    hasPrimaryKey: !!(keys && keys.primaryKey),
    hasSecondaryKey: !!(keys && keys.secondaryKey),
    primaryKeyBytes: keys && keys.primaryKey ? Buffer.from(keys.primaryKey, 'base64').length : 0,
    etag: created.etag,
    generationId: created.generationId,
    connectionState: created.connectionState,
  });
  check(created.deviceId === deviceId, 'create returned another deviceId', { got: created.deviceId });
  check(keys && keys.primaryKey && keys.secondaryKey, 'the hub did not generate both keys');

  step('get');
  const got = (await reg.get(deviceId)).responseBody;
  const gotKeys = got.authentication && got.authentication.symmetricKey;
  emit('got', {
    deviceId: got.deviceId,
    status: got.status,
    sameKeys: !!gotKeys && gotKeys.primaryKey === keys.primaryKey && gotKeys.secondaryKey === keys.secondaryKey,
    etag: got.etag,
    generationId: got.generationId,
    connectionState: got.connectionState,
    cloudToDeviceMessageCount: got.cloudToDeviceMessageCount,
  });
  check(got.deviceId === deviceId, 'get returned another deviceId');
  check(gotKeys && gotKeys.primaryKey === keys.primaryKey, 'get returned other keys than create');

  step('getUnknown');
  try {
    await reg.get(deviceId + '-does-not-exist');
    check(false, 'get of an unknown device succeeded');
  } catch (err) {
    if (err.name === 'CaseFailure') {
      throw err;
    }
    emit('unknownRejected', {
      name: err.name,
      statusCode: err.response && err.response.statusCode,
      iothubErrorCode: err.response && err.response.headers['iothub-errorcode'],
    });
    check(err.name === 'DeviceNotFoundError', `expected DeviceNotFoundError, got ${err.name}`);
  }
});
