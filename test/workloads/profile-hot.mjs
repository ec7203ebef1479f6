// profile-hot.mjs SECONDS: spins in one named JavaScript function, bpfkitHotLoop(), for SECONDS of
// wall time. Run with `node --perf-basic-prof`, V8 writes /tmp/perf-PID.map naming its compiled
// code, which is how profile's test finds the function's name in the sampled stacks.
// Prints "ready PID" when it starts spinning and "done PID" at the end.
const seconds = Number(process.argv[2] ?? 3);

function bpfkitHotLoop(ms) {
  const end = Date.now() + ms;
  let sum = 0;
  // The inner loop is the work; Date.now() is asked only now and then, so little time goes there.
  while (Date.now() < end) for (let i = 0; i < 200000; i++) sum += (i * i) % 7;
  return sum;
}

// Warmed up first, so that V8 has compiled it to machine code (a "JS:*" perf map entry) before the
// profiler is told to start.
for (let i = 0; i < 5; i++) bpfkitHotLoop(100);
console.log(`ready ${process.pid}`);
const sum = bpfkitHotLoop(seconds * 1000);
console.log(`done ${process.pid} ${sum > 0 ? 'ok' : 'zero'}`);
