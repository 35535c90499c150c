'use strict';
// Case: the right key connects; the same device with a wrong key is refused with CONNACK 5, which the SDK
// surfaces as UnauthorizedError ("Connection refused: Not authorized"). Inputs: FLEETSIM_DEVICE_CS,
// FLEETSIM_CA_PATH.
const crypto = require('crypto');
const { run, step, emit, check, input, closeQuietly, within, errorFields } = require('./lib/harness');
const { openDevice } = require('./lib/clients');

run(async () => {
  const cs = input('FLEETSIM_DEVICE_CS');
  check(/SharedAccessKey=/.test(cs), 'FLEETSIM_DEVICE_CS has no SharedAccessKey');

  step('openWithRightKey');
  const good = await openDevice(cs);
  emit('connectedWithRightKey');
  await closeQuietly(good);

  step('openWithWrongKey');
  const wrongKey = crypto.randomBytes(32).toString('base64');
  const badCs = cs.replace(/SharedAccessKey=[^;]*/, 'SharedAccessKey=' + wrongKey);
  let refusal = null;
  try {
    const bad = await openDevice(badCs);
    await closeQuietly(bad);
  } catch (err) {
    if (err.name === 'CaseFailure') {
      throw err;
    }
    refusal = err;
  }
  check(refusal !== null, 'a wrong key connected');
  emit('refused', errorFields(refusal));
  check(refusal.name === 'UnauthorizedError', `expected UnauthorizedError, got ${refusal.name}`);
  check(/Connection refused: Not authorized/.test(refusal.message), 'the refusal was not a CONNACK "Not authorized"', errorFields(refusal));
});
