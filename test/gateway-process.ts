/**
 * @module gateway-process: runs the real `src/main.ts` as a child process, as `npm start` does. Its command
 * adapters can run the fixture servers inside the sandbox (`MCP_GATEWAY_PROCESS_READ_PATHS`), and its state
 * file goes to a temporary directory of this test file rather than `./data` (both overridable through `env`).
 */
import { spawn } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { FIXTURE_READ_PATHS } from './process-fixtures.js';

const MAIN = fileURLToPath(new URL('../src/main.ts', import.meta.url));

/** The state directory gateways of this test file share unless a test names its own. */
const STATE_DIRECTORY = mkdtempSync(join(tmpdir(), 'mcp-gateway-state-'));
process.once('exit', () => rmSync(STATE_DIRECTORY, { recursive: true, force: true }));

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
    env: {
      PATH: process.env.PATH ?? '',
      MCP_GATEWAY_HOST: '127.0.0.1',
      PORT: '0',
      MCP_GATEWAY_PROCESS_READ_PATHS: FIXTURE_READ_PATHS.join(','),
      MCP_GATEWAY_STATE_DIR: STATE_DIRECTORY,
      ...env,
    },
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
  // Under tsx on a busy two-core machine a start alone has taken over 20 s.
  timeoutMs = 50_000,
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
