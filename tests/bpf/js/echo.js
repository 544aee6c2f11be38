// A TCP echo server and a client on loopback: 50 round trips.
const net = require('net');
const server = net.createServer((s) => s.pipe(s));
server.listen(0, '127.0.0.1', () => {
  const c = net.connect(server.address().port, '127.0.0.1');
  let n = 0;
  c.on('data', () => {
    if (++n < 50) c.write('ping');
    else { c.end(); server.close(); console.log('round trips', n); }
  });
  c.write('ping');
});
