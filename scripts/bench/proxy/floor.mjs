// The floor: the least a Node reverse proxy can do — `node:http` piped both ways through a keep-alive agent,
// no routing, no checks. Plain JavaScript so no loader or transform runs in this process. Run with
// UPSTREAM=host:port; prints {"port":N}.
import { Agent, createServer, request } from 'node:http';
import process from 'node:process';

const [host, port] = (process.env.UPSTREAM ?? '').split(':');
const agent = new Agent({ keepAlive: true, maxFreeSockets: 256 });

const server = createServer((req, res) => {
  const headers = { ...req.headers, host: `${host}:${port}` };
  const upstream = request({ agent, host, port, method: req.method, path: req.url, headers }, (answer) => {
    res.writeHead(answer.statusCode ?? 502, answer.headers);
    answer.pipe(res);
  });
  upstream.on('error', () => res.destroy());
  res.on('close', () => upstream.destroy());
  req.pipe(upstream);
});
server.keepAliveTimeout = 60_000;
server.listen(0, '127.0.0.1', () => {
  process.stdout.write(`${JSON.stringify({ port: server.address().port })}\n`);
});
