'use strict';
// Case: direct methods through the service SDK's invokeDeviceMethod (POST /twins/{id}/methods).
//   node method.js answer   the device's onDeviceMethod answers: status and payload round trip
//   node method.js offline  the device is not connected: 404 with 404103 (DeviceNotOnline)
//   node method.js timeout  the device takes the request and never answers: 504 (GatewayTimeout)
// Inputs: FLEETSIM_SERVICE_CS, FLEETSIM_DEVICE_ID, and for answer/timeout FLEETSIM_DEVICE_CS, FLEETSIM_CA_PATH.
const { run, step, emit, check, input, closeQuietly, within, errorFields } = require('./lib/harness');
const { openDevice, serviceClient, invokeMethod } = require('./lib/clients');

const mode = process.argv[2];

async function expectFailure(promise) {
  try {
    const outcome = await promise;
    return { outcome };
  } catch (err) {
    return { err };
  }
}

function bodyOf(err) {
  try {
    return JSON.parse(err.responseBody);
  } catch (_) {
    return null;
  }
}

run(async () => {
  check(['answer', 'offline', 'timeout'].includes(mode), `usage: node method.js answer|offline|timeout (got '${mode}')`);
  const deviceId = input('FLEETSIM_DEVICE_ID');
  const service = serviceClient();
  let device = null;

  if (mode !== 'offline') {
    step('open');
    device = await openDevice(input('FLEETSIM_DEVICE_CS'));
    step('register');
    const requests = [];
    device.onDeviceMethod('reboot', (request, response) => {
      requests.push({ methodName: request.methodName, payload: request.payload });
      emit('methodRequest', { methodName: request.methodName, requestId: request.requestId, payload: request.payload });
      if (mode === 'answer') {
        response.send(201, { echo: request.payload, rebooting: true }, (err) => {
          emit('methodResponseSent', err ? errorFields(err) : { ok: true });
        });
      }
      // mode 'timeout': never answer
    });
    // onDeviceMethod subscribes in the background; a twin round trip on the same connection orders after it.
    await within(device.getTwin(), 15000, 'sync round trip');
  }

  if (mode === 'answer') {
    step('invoke');
    const started = Date.now();
    const { result } = await within(
      invokeMethod(service, deviceId, { methodName: 'reboot', payload: { delay: 5, reason: 'conformance' }, responseTimeoutInSeconds: 15 }),
      20000, 'invokeDeviceMethod');
    emit('invoked', { status: result.status, payload: result.payload, elapsedMs: Date.now() - started });
    check(result.status === 201, `status ${result.status}, expected the device's 201`);
    check(result.payload && result.payload.rebooting === true && result.payload.echo && result.payload.echo.reason === 'conformance',
      'the payload did not round trip', { payload: result.payload });
  } else if (mode === 'offline') {
    step('invokeOffline');
    const { outcome, err } = await within(
      expectFailure(invokeMethod(service, deviceId, { methodName: 'reboot', payload: {}, responseTimeoutInSeconds: 5, connectTimeoutInSeconds: 0 })),
      20000, 'invokeDeviceMethod');
    check(err, 'invoking a method on an offline device succeeded', { outcome: outcome && outcome.result });
    const body = bodyOf(err);
    emit('rejected', Object.assign(errorFields(err), { body }));
    check(err.response && err.response.statusCode === 404, 'expected HTTP 404');
    const text = JSON.stringify(body) + ' ' + (err.response.headers['iothub-errorcode'] || '');
    check(/404103|DeviceNotOnline/.test(text), 'the 404 does not say 404103 / DeviceNotOnline', { body });
  } else {
    step('invokeNoAnswer');
    const started = Date.now();
    const { outcome, err } = await within(
      expectFailure(invokeMethod(service, deviceId, { methodName: 'reboot', payload: { wait: true }, responseTimeoutInSeconds: 5 })),
      20000, 'invokeDeviceMethod');
    check(err, 'the invocation succeeded though the device never answered', { outcome: outcome && outcome.result });
    const body = bodyOf(err);
    emit('rejected', Object.assign(errorFields(err), { body, elapsedMs: Date.now() - started }));
    check(err.response && err.response.statusCode === 504, 'expected HTTP 504');
    check(err.name === 'GatewayTimeoutError', `expected GatewayTimeoutError, got ${err.name}`);
    check(Date.now() - started >= 4500, 'the hub answered 504 before the 5 s response timeout');
  }

  step('close');
  await closeQuietly(device);
});
