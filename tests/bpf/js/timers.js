// 20 interval ticks of 10 ms, one setImmediate, one readFile.
let n = 0;
const iv = setInterval(() => {
  n++;
  if (n === 20) {
    clearInterval(iv);
    console.log('ticks', n);
  }
}, 10);
setImmediate(() => console.log('immediate'));
require('fs').readFile(__filename, (err, data) => console.log('read', !err && data.length > 0));
