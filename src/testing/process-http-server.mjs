/* global process, setInterval, setTimeout */
/**
 * @module process-http-server: a tiny HTTP server for process-deployer tests. It listens on 127.0.0.1:$PORT
 * and answers `GET /env` with its whole environment (so tests can prove what reached it), anything else with
 * 200. Flags: `--exit=CODE` exits at once; `--never-listen` stays up without listening; `--delay=MS` waits
 * before listening.
 */
import { createServer } from 'node:http';

const flag = (name) => process.argv.find((a) => a.startsWith(`--${name}`))?.split('=')[1] ?? undefined;
const has = (name) => process.argv.some((a) => a === `--${name}` || a.startsWith(`--${name}=`));

process.stderr.write(`process-http-server started pid ${process.pid}\n`);
if (has('exit')) {
  process.stderr.write('process-http-server exiting as asked\n');
  process.exit(Number(flag('exit') ?? 1));
}
if (has('never-listen')) {
  setInterval(() => undefined, 60_000);
} else {
  const port = Number(process.env.PORT);
  const server = createServer((req, res) => {
    if (req.method === 'GET' && req.url === '/env') {
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end(JSON.stringify(process.env));
      return;
    }
    if (req.method === 'OPTIONS') {
      res.writeHead(204);
      res.end();
      return;
    }
    res.writeHead(200, { 'content-type': 'text/plain' });
    res.end(`ok ${req.method} ${req.url}\n`);
  });
  setTimeout(
    () =>
      server.listen(port, '127.0.0.1', () => {
        process.stdout.write(`process-http-server listening on ${port}\n`);
      }),
    Number(flag('delay') ?? 0),
  );
  process.on('SIGTERM', () => server.close(() => process.exit(0)));
}
