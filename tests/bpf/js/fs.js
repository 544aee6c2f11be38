// 20 reads one after the other, each through the thread pool.
const fs = require('fs');
let n = 0;
function next() {
  fs.readFile(__filename, (err) => {
    if (err) throw err;
    if (++n < 20) next();
    else console.log('reads', n);
  });
}
next();
