'use strict';
// Case: file upload end to end with the device SDK's uploadToBlob: POST /devices/{id}/files (SAS URI),
// the blob PUT by @azure/storage-blob (Put Block + Put Block List) to https://{hostName}/{container}/{blob}{sas},
// then POST /devices/{id}/files/notifications/{correlationId}. The storage client does not take the SDK's `ca`
// option, so the harness sets NODE_EXTRA_CA_CERTS; the hub's HTTPS calls use setOptions({ ca: PEM text }).
// Inputs: FLEETSIM_DEVICE_CS, FLEETSIM_CA_PATH, FLEETSIM_BLOB_NAME, FLEETSIM_BLOB_TEXT.
const { Readable } = require('stream');
const { run, step, emit, input, closeQuietly, within } = require('./lib/harness');
const { openDevice } = require('./lib/clients');

run(async () => {
  const blobName = input('FLEETSIM_BLOB_NAME');
  const content = Buffer.from(input('FLEETSIM_BLOB_TEXT'), 'utf8');

  step('open');
  const client = await openDevice(input('FLEETSIM_DEVICE_CS'));

  step('uploadToBlob');
  const started = Date.now();
  await within(client.uploadToBlob(blobName, Readable.from([content]), content.length), 30000, 'uploadToBlob');
  emit('uploaded', { blobName, bytes: content.length, elapsedMs: Date.now() - started });

  step('close');
  await closeQuietly(client);
});
