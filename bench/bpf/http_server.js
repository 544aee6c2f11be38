// A keep-alive HTTP server on loopback for bench_bpf: prints its port, then
// serves until killed.
const http = require('http');
const body = 'hello from loopscope bench\n';
const server = http.createServer((req, res) => {
  res.writeHead(200, { 'Content-Type': 'text/plain', 'Content-Length': body.length });
  res.end(body);
});
server.keepAliveTimeout = 60000;
server.listen(0, '127.0.0.1', () => console.log(server.address().port));
