/**
 * @module server-everything: starts `@modelcontextprotocol/server-everything` in its Streamable HTTP mode as a
 * child process, held to 127.0.0.1. Its own code listens on every interface (`app.listen(PORT)`), so a preload
 * module rewrites each TCP `listen` of that process to loopback and reports the port it got.
 */
import { spawn } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';

/** A running server-everything. */
export interface RunningServerEverything {
  /** The MCP endpoint, `http://127.0.0.1:PORT/mcp`. */
  readonly url: string;
  readonly pid: number;
  /** Stops the child and waits for it to exit. */
  close(): Promise<void>;
}

/** Options for {@link startServerEverything}. */
export interface ServerEverythingOptions {
  /** The Node binary to run it with. Default: the current one. */
  readonly node?: string;
  /** Gives up when the child has not reported its port by then. Default 20 s. */
  readonly startTimeoutMs?: number;
}

const PORT_MARK = 'mcp-gateway-loopback-listen';

// Runs before the server's own code: every TCP listen of the process goes to 127.0.0.1, whatever it asked for
// (forms: `listen()`, `listen(port[, host][, backlog][, cb])`, `listen({ port, host })`; pipes are left alone).
const LOOPBACK_PRELOAD = `
import net from 'node:net';
const listen = net.Server.prototype.listen;
net.Server.prototype.listen = function (...args) {
  const first = args[0];
  if (first !== null && typeof first === 'object' && first.path === undefined) {
    args[0] = { ...first, host: '127.0.0.1' };
  } else if (first === undefined || typeof first === 'function') {
    args.unshift(0, '127.0.0.1');
  } else if (typeof first === 'number' || (typeof first === 'string' && /^\\d+$/.test(first))) {
    if (typeof args[1] === 'string') args[1] = '127.0.0.1';
    else args.splice(1, 0, '127.0.0.1');
  }
  this.once('listening', () => {
    const address = this.address();
    if (address && typeof address === 'object') {
      process.stderr.write('${PORT_MARK} ' + address.address + ' ' + address.port + '\\n');
    }
  });
  return listen.apply(this, args);
};
`;

function serverEverythingEntry(): string {
  const require = createRequire(import.meta.url);
  return join(
    dirname(require.resolve('@modelcontextprotocol/server-everything/package.json')),
    'dist/index.js',
  );
}

function waitForExit(child: ChildProcess, ms: number): Promise<boolean> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve(true);
  return new Promise((resolve) => {
    const timer = setTimeout(() => resolve(false), ms);
    child.once('exit', () => {
      clearTimeout(timer);
      resolve(true);
    });
  });
}

/** Starts server-everything (`streamableHttp`) on an ephemeral loopback port. */
export async function startServerEverything(
  options: ServerEverythingOptions = {},
): Promise<RunningServerEverything> {
  const child = spawn(
    options.node ?? process.execPath,
    [
      `--import=data:text/javascript,${encodeURIComponent(LOOPBACK_PRELOAD)}`,
      serverEverythingEntry(),
      'streamableHttp',
    ],
    {
      // Its `get-env` tool hands its whole environment to any caller: give it nothing but PATH and the port.
      env: { PATH: process.env.PATH ?? '/usr/bin:/bin', PORT: '0' },
      stdio: ['ignore', 'ignore', 'pipe'],
    },
  );
  const close = async () => {
    child.kill('SIGTERM');
    if (!(await waitForExit(child, 5000))) {
      child.kill('SIGKILL');
      await waitForExit(child, 5000);
    }
  };
  let log = '';
  try {
    const port = await new Promise<number>((resolve, reject) => {
      const timer = setTimeout(
        () => reject(new Error(`server-everything did not start in time:\n${log}`)),
        options.startTimeoutMs ?? 20_000,
      );
      // Keep reading stderr for the child's whole life, or a full pipe would block it.
      child.stderr!.setEncoding('utf8').on('data', (chunk: string) => {
        log = (log + chunk).slice(-8192);
        const match = new RegExp(`^${PORT_MARK} (\\S+) (\\d+)$`, 'm').exec(log);
        if (!match) return;
        clearTimeout(timer);
        if (match[1] !== '127.0.0.1') reject(new Error(`server-everything listens on ${match[1]}`));
        else resolve(Number(match[2]));
      });
      child.once('exit', (code, signal) => {
        clearTimeout(timer);
        reject(new Error(`server-everything exited (${code ?? signal}) before listening:\n${log}`));
      });
      child.once('error', (error) => {
        clearTimeout(timer);
        reject(error);
      });
    });
    return { url: `http://127.0.0.1:${port}/mcp`, pid: child.pid!, close };
  } catch (error) {
    await close();
    throw error;
  }
}
