// A chain of 300 setImmediate callbacks: one per loop iteration.
let n = 0;
function next() {
  if (++n < 300) setImmediate(next);
  else console.log('immediates', n);
}
setImmediate(next);
