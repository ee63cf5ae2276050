/* global process, setInterval, setTimeout, URL */
/**
 * @module process-http-server: a tiny HTTP server for process-deployer tests. It listens on 127.0.0.1:$PORT
 * and answers `GET /env` with its whole environment (so tests can prove what reached it), `GET /inspect` with
 * what it sees of the host (see below), anything else with 200. Flags: `--exit=CODE` exits at once;
 * `--never-listen` stays up without listening; `--delay=MS` waits before listening.
 */
import { readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:http';
import { join } from 'node:path';

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
    if (req.method === 'GET' && req.url?.startsWith('/inspect')) {
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end(JSON.stringify(inspect(new URL(req.url, 'http://x').searchParams)));
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

/** A file's content, or the error code reading it failed with. */
function attempt(read) {
  try {
    return { ok: true, value: read() };
  } catch (err) {
    return { ok: false, code: err.code ?? String(err) };
  }
}

/**
 * What this process sees: its ids, the pids in its `/proc`, the files named by `read` (content or error code),
 * after writing a file named `write` (if given) into $HOME and $TMPDIR, and what those two directories hold.
 */
function inspect(params) {
  const write = params.get('write');
  const home = process.env.HOME ?? '';
  const tmp = process.env.TMPDIR ?? '/tmp';
  const written = write
    ? [home, tmp].map((dir) => attempt(() => writeFileSync(join(dir, write), `${process.pid}\n`)))
    : [];
  return {
    uid: process.getuid(),
    gid: process.getgid(),
    pid: process.pid,
    ppid: process.ppid,
    home,
    tmp,
    cwd: process.cwd(),
    proc: readdirSync('/proc').filter((name) => /^\d+$/.test(name)),
    reads: Object.fromEntries(
      params.getAll('read').map((path) => [path, attempt(() => readFileSync(path, 'latin1'))]),
    ),
    written,
    homeEntries: attempt(() => readdirSync(home)),
    tmpEntries: attempt(() => readdirSync(tmp)),
  };
}
