'use strict';
// Case: SAS renewal. The device's tokens live FLEETSIM_TOKEN_TTL_S seconds (default 6) and are renewed
// FLEETSIM_TOKEN_MARGIN_S (default 3) before expiry: each renewal ends the MQTT connection and connects again
// with the new token, same ClientId, clean session 0, WITHOUT subscribing again. After each renewal the device
// must still receive direct methods and desired-property patches (the hub kept the session's subscriptions),
// and the run outlasts the first token, so an expired token being honoured would also show.
// Inputs: FLEETSIM_DEVICE_CS, FLEETSIM_CA_PATH, FLEETSIM_SERVICE_CS, FLEETSIM_DEVICE_ID, FLEETSIM_RENEWALS (3).
const { SharedAccessKeyAuthenticationProvider } = require('azure-iot-device');
const { run, step, emit, check, input, caPem, closeQuietly, within, nextEvent } = require('./lib/harness');
const { DeviceClient, Mqtt, registry, serviceClient, invokeMethod } = require('./lib/clients');

function expiryOf(sasToken) {
  const match = /[?&\s]se=(\d+)/.exec(' ' + String(sasToken).replace(/^SharedAccessSignature /, '&'));
  return match ? Number(match[1]) : null;
}

run(async () => {
  const deviceId = input('FLEETSIM_DEVICE_ID');
  const ttl = Number(input('FLEETSIM_TOKEN_TTL_S', '6'));
  const margin = Number(input('FLEETSIM_TOKEN_MARGIN_S', '3'));
  const renewals = Number(input('FLEETSIM_RENEWALS', '3'));
  const reg = registry();
  const service = serviceClient();

  step('open');
  // Created from an authentication provider only to observe its public 'newTokenAvailable' event; the renewal
  // values go through the documented setOptions({ tokenRenewal }).
  const provider = SharedAccessKeyAuthenticationProvider.fromConnectionString(input('FLEETSIM_DEVICE_CS'));
  const client = DeviceClient.fromAuthenticationProvider(provider, Mqtt);
  await client.setOptions({ ca: caPem(), tokenRenewal: { tokenValidTimeInSeconds: ttl, tokenRenewalMarginInSeconds: margin } });
  await within(client.open(), 20000, 'device open');
  const firstExpiry = await new Promise((resolve, reject) =>
    provider.getDeviceCredentials((err, credentials) => (err ? reject(err) : resolve(expiryOf(credentials.sharedAccessSignature)))));
  emit('connected', { tokenExpiry: firstExpiry, ttl, margin });

  step('subscribe');
  let methodCalls = 0;
  client.onDeviceMethod('ping', (request, response) => {
    methodCalls++;
    response.send(200, { pong: request.payload }, () => {});
  });
  const twin = await within(client.getTwin(), 15000, 'getTwin');
  const desiredSeen = [];
  twin.on('properties.desired', (patch) => desiredSeen.push(patch));
  await within(new Promise((resolve, reject) => twin.properties.reported.update({ renewalTest: true }, (e) => (e ? reject(e) : resolve()))), 15000, 'sync round trip');

  const clientDisconnects = [];
  client.on('disconnect', () => clientDisconnects.push(Date.now()));

  let lastExpiry = firstExpiry;
  for (let round = 1; round <= renewals; round++) {
    step('awaitRenewal', { round });
    const credentials = await nextEvent(provider, 'newTokenAvailable', (ttl + 5) * 1000);
    const expiry = expiryOf(credentials.sharedAccessSignature);
    emit('tokenRenewed', { round, tokenExpiry: expiry, previousExpiry: lastExpiry });
    check(expiry > lastExpiry, 'the renewed token does not expire later');
    lastExpiry = expiry;

    step('methodAfterRenewal', { round });
    // connectTimeoutInSeconds lets the hub wait while the SDK is between its disconnect and its reconnect.
    const { result } = await within(
      invokeMethod(service, deviceId, { methodName: 'ping', payload: round, responseTimeoutInSeconds: 10, connectTimeoutInSeconds: 10 }),
      25000, 'invokeDeviceMethod after renewal');
    emit('methodAnswered', { round, status: result.status, payload: result.payload });
    check(result.status === 200 && result.payload && result.payload.pong === round, 'the method did not round trip after renewal', { result });

    step('desiredAfterRenewal', { round });
    const received = nextEvent(twin, 'properties.desired.round', 15000, (value) => value === round);
    const current = (await reg.getTwin(deviceId)).responseBody;
    await reg.updateTwin(deviceId, { properties: { desired: { round } } }, current.etag);
    await received;
    emit('desiredReceived', { round });
  }

  const now = Math.floor(Date.now() / 1000);
  emit('summary', { firstExpiry, now, outlivedFirstToken: now > firstExpiry, methodCalls, desiredPatches: desiredSeen.length, clientDisconnects: clientDisconnects.length });
  check(now > firstExpiry, 'the run ended before the first token expired; raise FLEETSIM_RENEWALS');
  check(clientDisconnects.length === 0, 'the client reported a disconnect during renewal');

  step('close');
  await closeQuietly(client);
});
