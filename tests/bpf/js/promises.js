// 30 rounds of: a promise reaction (a microtask) that sets a 1 ms timer; then
// a server that is closed (a close callback).
let n = 0;
function step() {
  if (++n <= 30) return Promise.resolve(n).then(() => setTimeout(step, 1));
  const server = require('net').createServer();
  server.listen(0, '127.0.0.1', () => server.close(() => console.log('rounds', n - 1)));
}
step();
