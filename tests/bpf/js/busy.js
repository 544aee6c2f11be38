// One timer callback that blocks the loop for 100 ms.
setTimeout(() => {
  const start = process.hrtime.bigint();
  while (process.hrtime.bigint() - start < 100000000n) {}
  console.log('busy done');
}, 20);
setTimeout(() => console.log('after'), 200);
