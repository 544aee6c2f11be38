// A client writing 8 MiB at once: its stream write queue fills and drains.
const net = require('net');
const big = Buffer.alloc(1 << 20, 1);
const server = net.createServer((s) => { s.on('data', () => {}); s.on('end', () => { s.end(); server.close(); }); });
server.listen(0, '127.0.0.1', () => {
  const c = net.connect(server.address().port, '127.0.0.1', () => {
    for (let i = 0; i < 8; i++) c.write(big);
    c.end();
  });
});
