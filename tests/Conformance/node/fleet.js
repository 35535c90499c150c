'use strict';
// Case: the fleet-level service API through azure-iothub as shipped: Registry.addDevices (bulk create, one device
// already there comes back as a per-device error), getRegistryStatistics, createQuery paged with nextAsTwin and
// continuation tokens, removeDevices (bulk delete). Inputs: FLEETSIM_SERVICE_CS, FLEETSIM_PREFIX.
const { run, step, emit, check, input, errorFields } = require('./lib/harness');
const { registry } = require('./lib/clients');

run(async () => {
  const prefix = input('FLEETSIM_PREFIX');
  const reg = registry();
  const ids = [0, 1, 2, 3, 4].map((i) => `${prefix}-${i}`);

  step('addDevices');
  const added = await reg.addDevices(ids.map((deviceId) => ({ deviceId, status: 'enabled', tags: { conformance: prefix } })));
  emit('added', { statusCode: added.httpResponse.statusCode, isSuccessful: added.responseBody.isSuccessful, errors: added.responseBody.errors.length });
  check(added.responseBody.isSuccessful === true, 'addDevices was not successful', { body: added.responseBody });

  step('addExisting');
  try {
    await reg.addDevices([{ deviceId: ids[0] }, { deviceId: `${prefix}-new` }]);
    check(false, 'adding an existing device succeeded');
  } catch (err) {
    if (err.name === 'CaseFailure') {
      throw err;
    }
    const body = JSON.parse(err.responseBody);
    emit('addExistingRejected', { error: errorFields(err), isSuccessful: body.isSuccessful, errors: body.errors });
  }

  step('statistics');
  const stats = (await reg.getRegistryStatistics()).responseBody;
  emit('statistics', stats);

  step('query');
  const query = reg.createQuery(`SELECT * FROM devices WHERE tags.conformance = '${prefix}'`, 2);
  const seen = [];
  let pages = 0;
  while (query.hasMoreResults) {
    const page = await query.nextAsTwin();
    pages++;
    page.result.forEach((twin) => seen.push(twin.deviceId));
    check(pages < 10, 'the query never ended');
  }
  emit('queried', { pages, deviceIds: seen });

  step('count');
  const counted = await reg.createQuery(`SELECT COUNT() AS n FROM devices WHERE STARTSWITH(deviceId, '${prefix}-')`).next();
  emit('counted', { rows: counted.result });

  step('removeDevices');
  const removed = await reg.removeDevices(ids.concat([`${prefix}-new`]).map((deviceId) => ({ deviceId })), true);
  emit('removed', { statusCode: removed.httpResponse.statusCode, isSuccessful: removed.responseBody.isSuccessful });
});
