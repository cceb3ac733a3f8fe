// Leaks COUNT Buffers of BYTES bytes from leakyHandler() (kept in a global
// array), JIT-compiled by V8; then stays up until killed.
// usage: node [--perf-basic-prof] leak_buffers.js COUNT BYTES [-w]
//   -w: wait for SIGUSR2 before starting (node keeps SIGUSR1 for its inspector)
'use strict';
const count = Number(process.argv[2]);
const bytes = Number(process.argv[3]);
const kept = [];

function leakyHandler(i) {
  kept.push(Buffer.alloc(bytes, i & 0xff));
}

function run() {
  for (let i = 0; i < count; i++)
    leakyHandler(i);
  process.stdout.write('leaked\n');
  setInterval(() => {}, 1 << 30);
}

if (process.argv.includes('-w')) {
  process.on('SIGUSR2', run);
  setInterval(() => {}, 1 << 30);
} else {
  run();
}
