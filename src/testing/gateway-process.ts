/** @module gateway-process: runs the real `src/main.ts` as a child process, as `npm start` does. */
import { spawn } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';

const MAIN = fileURLToPath(new URL('../main.ts', import.meta.url));

/** A running gateway process. */
export interface GatewayProcess {
  readonly url: string;
  readonly child: ChildProcess;
  /** Every JSON log line so far. */
  readonly logs: Record<string, unknown>[];
  /** Sends a signal and resolves with the exit code. */
  stop(signal?: NodeJS.Signals): Promise<number | null>;
}

/** Result of a process that was expected to exit on its own. */
export interface ExitedProcess {
  readonly code: number | null;
  readonly stdout: string;
  readonly stderr: string;
}

function run(env: Record<string, string>): ChildProcess {
  return spawn(process.execPath, ['--import', 'tsx', MAIN], {
    env: { PATH: process.env.PATH ?? '', MCP_GATEWAY_HOST: '127.0.0.1', PORT: '0', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
}

const exited = (child: ChildProcess) =>
  new Promise<number | null>((resolve) => {
    // A process killed by a signal has no exit code, only a signal code; either means it is gone.
    if (child.exitCode !== null || child.signalCode !== null) resolve(child.exitCode);
    else child.once('exit', (code) => resolve(code));
  });

/** Starts the gateway and resolves once it logs `listening`; rejects if it exits first or takes too long. */
export function startGatewayProcess(
  env: Record<string, string>,
  timeoutMs = 20_000,
): Promise<GatewayProcess> {
  const child = run(env);
  const logs: Record<string, unknown>[] = [];
  let stderr = '';
  child.stderr?.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`gateway did not start within ${timeoutMs} ms; stderr: ${stderr}`));
    }, timeoutMs);
    let buffered = '';
    child.stdout?.on('data', (chunk: Buffer) => {
      buffered += chunk.toString();
      let newline: number;
      while ((newline = buffered.indexOf('\n')) >= 0) {
        const line = JSON.parse(buffered.slice(0, newline)) as Record<string, unknown>;
        buffered = buffered.slice(newline + 1);
        logs.push(line);
        if (line.msg === 'listening') {
          clearTimeout(timer);
          resolve({
            url: `http://127.0.0.1:${String(line.port)}`,
            child,
            logs,
            stop: (signal = 'SIGTERM') => {
              child.kill(signal);
              return exited(child);
            },
          });
        }
      }
    });
    child.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`gateway exited with ${code} before listening; stderr: ${stderr}`));
    });
  });
}

/** Runs the gateway expecting it to exit by itself (e.g. on bad configuration). */
export async function runGatewayToExit(env: Record<string, string>): Promise<ExitedProcess> {
  const child = run(env);
  let stdout = '';
  let stderr = '';
  child.stdout?.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
  child.stderr?.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  const code = await exited(child);
  return { code, stdout, stderr };
}
