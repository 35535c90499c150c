'use strict';
// Shared plumbing for the conformance scripts (the SDKs themselves are used as shipped):
// inputs from environment variables, one JSON object per stdout line, a hard deadline per script,
// and secret redaction for anything that echoes an error message.
//
// Exit codes: 0 the case passed its own checks, 1 a step failed (see the "failed" line),
// 2 bad input, 3 the script ran out of time (see the "timedOut" line).

const fs = require('fs');

let currentStep = 'start';

function emit(event, fields) {
  process.stdout.write(JSON.stringify(Object.assign({ event }, fields || {}, { atMs: Date.now() })) + '\n');
}

function redact(text) {
  if (text === undefined || text === null) {
    return text;
  }
  return String(text)
    .replace(/(SharedAccessKey=)[^;"\s]*/gi, '$1***')
    .replace(/(SharedAccessSignature=)[^;"]*/gi, '$1***')
    .replace(/(sig=)[^&;"\s]*/gi, '$1***');
}

function errorFields(err) {
  if (!err) {
    return { name: 'Error', message: 'no error object' };
  }
  const fields = { name: err.name || err.constructor && err.constructor.name, message: redact(err.message) };
  if (err.code) {
    fields.code = err.code;
  }
  const response = err.response;
  if (response && typeof response.statusCode === 'number') {
    fields.statusCode = response.statusCode;
    if (response.headers && response.headers['iothub-errorcode']) {
      fields.iothubErrorCode = response.headers['iothub-errorcode'];
    }
  }
  if (err.responseBody) {
    fields.responseBody = redact(String(err.responseBody).slice(0, 500));
  }
  if (err.innerError) {
    fields.inner = errorFields(err.innerError);
  }
  return fields;
}

function input(name, fallback) {
  const value = process.env[name];
  if (value === undefined || value === '') {
    if (fallback !== undefined) {
      return fallback;
    }
    emit('badInput', { variable: name, message: `environment variable ${name} is required` });
    process.exit(2);
  }
  return value;
}

/** The hub's CA certificate as PEM text (setOptions accepts a path too, but see docs/conformance-notes.md). */
function caPem() {
  const path = input('FLEETSIM_CA_PATH');
  try {
    return fs.readFileSync(path, 'utf8');
  } catch (err) {
    emit('badInput', { variable: 'FLEETSIM_CA_PATH', message: `cannot read ${path}: ${err.code}` });
    process.exit(2);
  }
}

/** Marks what the script is doing, so a failure or a timeout names the step. */
function step(name, fields) {
  currentStep = name;
  emit('step', Object.assign({ step: name }, fields || {}));
}

class CaseFailure extends Error {
  constructor(message, fields) {
    super(message);
    this.name = 'CaseFailure';
    this.fields = fields;
  }
}

/** Fails the case unless the condition holds. */
function check(condition, message, fields) {
  if (!condition) {
    throw new CaseFailure(message, fields);
  }
}

/** Resolves with the next `event` from `emitter` (matching `predicate`), rejects after `ms`. */
function nextEvent(emitter, event, ms, predicate) {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      emitter.removeListener(event, listener);
      reject(new CaseFailure(`no '${event}' event within ${ms} ms`));
    }, ms);
    function listener(...args) {
      if (predicate && !predicate(...args)) {
        return;
      }
      clearTimeout(timer);
      emitter.removeListener(event, listener);
      resolve(args.length > 1 ? args : args[0]);
    }
    emitter.on(event, listener);
  });
}

/** Rejects if `promise` has not settled after `ms`. */
function within(promise, ms, what) {
  let timer;
  const timeout = new Promise((_, reject) => {
    timer = setTimeout(() => reject(new CaseFailure(`${what} did not finish within ${ms} ms`)), ms);
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}

/** Runs the case with a hard deadline (FLEETSIM_TIMEOUT_MS, default 30 s) and exits with its verdict. */
function run(body) {
  const limitMs = Number(input('FLEETSIM_TIMEOUT_MS', '30000'));
  setTimeout(() => {
    emit('timedOut', { step: currentStep, afterMs: limitMs });
    process.exit(3);
  }, limitMs);
  process.on('unhandledRejection', (err) => {
    emit('failed', Object.assign({ step: currentStep, unhandled: true }, errorFields(err)));
    process.exit(1);
  });
  Promise.resolve()
    .then(body)
    .then(() => {
      emit('passed');
      process.exit(0);
    })
    .catch((err) => {
      emit('failed', Object.assign({ step: currentStep }, errorFields(err), err && err.fields ? { details: err.fields } : {}));
      process.exit(1);
    });
}

/** Closes SDK clients, ignoring errors (used on the way out). */
async function closeQuietly(...clients) {
  for (const client of clients) {
    if (client && typeof client.close === 'function') {
      try {
        await within(client.close(), 5000, 'close');
      } catch (_) {
        // the verdict is already decided; a slow close must not change it
      }
    }
  }
}

function delay(ms) {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

module.exports = { emit, redact, errorFields, input, caPem, step, check, CaseFailure, nextEvent, within, run, closeQuietly, delay };
