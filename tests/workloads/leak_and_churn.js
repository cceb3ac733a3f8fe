// churnHandler() allocates COUNT Buffers of BYTES bytes and drops them
// (a forced GC frees them: run with --expose-gc); then leakyHandler()
// keeps COUNT more. Then stays up until killed.
// usage: node --expose-gc leak_and_churn.js COUNT BYTES [-w]
//   -w: wait for SIGUSR2 before starting
'use strict';
const count = Number(process.argv[2]);
const bytes = Number(process.argv[3]);
const kept = [];
let sum = 0;

function churnHandler(i) {
  sum += Buffer.alloc(bytes, i & 0xff)[0];
}

function leakyHandler(i) {
  kept.push(Buffer.alloc(bytes, i & 0xff));
}

function run() {
  for (let i = 0; i < count; i++)
    churnHandler(i);
  global.gc();
  for (let i = 0; i < count; i++)
    leakyHandler(i);
  process.stdout.write(`leaked ${sum}\n`);
  setInterval(() => {}, 1 << 30);
}

if (process.argv.includes('-w')) {
  process.on('SIGUSR2', run);
  setInterval(() => {}, 1 << 30);
} else {
  run();
}
