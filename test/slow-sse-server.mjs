/* global process, setInterval, clearInterval */
/**
 * @module slow-sse-server: an HTTP server for drain tests. Listens on 127.0.0.1:$PORT; answers each POST with an
 * SSE stream that sends one event at once and then one every `--interval=MS` (default 300), and ends after
 * `--events=N` events (default 5; 0 streams until the client or the process goes). Anything else gets 200.
 */
import { createServer } from 'node:http';

const flag = (name, fallback) =>
  Number(process.argv.find((a) => a.startsWith(`--${name}=`))?.split('=')[1] ?? fallback);
const interval = flag('interval', 300);
const events = flag('events', 5);

const server = createServer((req, res) => {
  req.resume();
  if (req.method !== 'POST') {
    res.writeHead(200, { 'content-type': 'text/plain' });
    res.end('ok\n');
    return;
  }
  res.writeHead(200, { 'content-type': 'text/event-stream', 'cache-control': 'no-cache' });
  let sent = 0;
  const send = () => {
    sent += 1;
    res.write(
      `id: ${sent}\ndata: {"jsonrpc":"2.0","method":"notifications/progress","params":{"n":${sent}}}\n\n`,
    );
    if (events > 0 && sent >= events) {
      clearInterval(timer);
      res.end();
    }
  };
  const timer = setInterval(send, interval);
  res.on('close', () => clearInterval(timer));
  send();
});
server.listen(Number(process.env.PORT), '127.0.0.1');
process.on('SIGTERM', () => {
  server.closeAllConnections();
  server.close(() => process.exit(0));
});
