'use strict';
// Case: azure-iothub JobClient as shipped: scheduleTwinUpdate and scheduleDeviceMethod over a query condition, getJob
// polled until the job ends. Inputs: FLEETSIM_SERVICE_CS, FLEETSIM_PREFIX.
const iothub = require('azure-iothub');
const { run, step, emit, check, input, delay } = require('./lib/harness');
const { registry } = require('./lib/clients');

async function untilDone(jobs, jobId) {
  for (let i = 0; i < 200; i++) {
    const job = (await jobs.getJob(jobId)).jobStatus;
    if (job.status === 'completed' || job.status === 'failed') {
      return job;
    }
    await delay(100);
  }
  check(false, `job ${jobId} did not end`);
}

run(async () => {
  const prefix = input('FLEETSIM_PREFIX');
  const reg = registry();
  const jobs = iothub.JobClient.fromConnectionString(input('FLEETSIM_SERVICE_CS'));
  const ids = [`${prefix}-0`, `${prefix}-1`];
  await reg.addDevices(ids.map((deviceId) => ({ deviceId, tags: { conformance: prefix } })));

  step('scheduleTwinUpdate');
  const twinJobId = `${prefix}-twin`;
  const scheduled = (await jobs.scheduleTwinUpdate(twinJobId, `tags.conformance = '${prefix}'`, { etag: "*", properties: { desired: { rate: 5 } } })).jobStatus;
  emit('twinJobScheduled', { jobId: scheduled.jobId, type: scheduled.type, status: scheduled.status });
  const twinJob = await untilDone(jobs, twinJobId);
  emit('twinJobDone', { status: twinJob.status, deviceJobStatistics: twinJob.deviceJobStatistics });
  const twin = (await reg.getTwin(ids[1])).responseBody;
  emit('twin', { rate: twin.properties.desired.rate });

  step('scheduleDeviceMethod');
  const methodJobId = `${prefix}-method`;
  await jobs.scheduleDeviceMethod(methodJobId, `deviceId IN ['${ids[0]}', '${ids[1]}']`, { methodName: 'reboot', payload: null, responseTimeoutInSeconds: 5 });
  const methodJob = await untilDone(jobs, methodJobId);
  emit('methodJobDone', { status: methodJob.status, deviceJobStatistics: methodJob.deviceJobStatistics });

  await reg.removeDevices(ids.map((deviceId) => ({ deviceId })), true);
});
