// A worker thread runs its own event loop (and JS before its first uv_run).
const { Worker, isMainThread } = require('worker_threads');
if (isMainThread) {
  const w = new Worker(__filename);
  w.on('exit', () => console.log('worker done'));
} else {
  let n = 0;
  const t = setInterval(() => { if (++n === 5) clearInterval(t); }, 5);
}
