/**
 * @module command-resolution: resolves a package runner's command (`npx -y pkg args`, `uvx pkg args`) once per
 * replica to the program it ends up running, so every later server process of the replica is that program
 * started directly (`node <bin> args`) instead of `npx` → `npm exec` → node: one process instead of three, no
 * npm start-up per session. The resolution runs in the replica's own sandbox with the replica's environment, so
 * the path it finds is one the replica's children see. Anything it cannot resolve — another command, options it
 * does not know, a spec that is not a registry package, a probe that fails — keeps the command as given.
 */
import { basename } from 'node:path';

/** A program and its arguments. */
export interface Launchable {
  readonly command: string;
  readonly args: readonly string[];
}

/** How one package runner's command is resolved: run `probe` once, read the program from its output. */
export interface ResolutionPlan {
  readonly runner: 'npx' | 'uvx';
  /** The package as the command names it, e.g. `@modelcontextprotocol/server-everything`. */
  readonly spec: string;
  readonly probe: Launchable;
  /** The program to start instead, from the probe's stdout; undefined when the output names none. */
  readonly read: (stdout: string) => Launchable | undefined;
}

/** What a probe run gave: its exit code (undefined when it did not exit normally) and what it printed. */
export interface ProbeOutcome {
  readonly code: number | undefined;
  readonly stdout: string;
  /** Why it did not run or finish, when it did not. */
  readonly failure?: string;
}

/** Runs a probe in the replica's sandbox, with the replica's environment. */
export type ProbeRunner = (probe: Launchable) => Promise<ProbeOutcome>;

/** What {@link resolveCommand} decided, with a line for the replica's log. */
export interface Resolution {
  readonly launch: Launchable;
  /** Whether {@link launch} is a resolved program (false: the command as given). */
  readonly resolved: boolean;
  readonly note: string | undefined;
}

/** Resolves a command once; the deployer's default is {@link resolveCommand}, tests inject their own. */
export type CommandResolver = (original: Launchable, run: ProbeRunner) => Promise<Resolution>;

/** The line the probes print before their answer (anything else on stdout, e.g. npm's notices, is ignored). */
const ANSWER = 'MCP_GATEWAY_RESOLVED ';

/**
 * Runs inside `npm exec`, whose PATH starts with the `node_modules/.bin` folders of the installed package: finds
 * the package there, picks its bin as npm does (the only one, else the one named like the package), and prints
 * where it really is and whether node runs it.
 */
const NPX_PROBE_SCRIPT = [
  "const fs=require('fs'),path=require('path');const name=process.argv[1];",
  "const short=name.replace(/^@[^/]+\\//,'');",
  "for(const dir of (process.env.PATH||'').split(path.delimiter)){",
  "if(!dir.endsWith(path.join('node_modules','.bin')))continue;",
  'const root=path.join(dir,"..",name);let pj;',
  "try{pj=JSON.parse(fs.readFileSync(path.join(root,'package.json'),'utf8'))}catch{continue}",
  'if(pj.name!==name)continue;let bin=pj.bin;',
  "if(bin&&typeof bin==='object'){const keys=Object.keys(bin);bin=keys.length===1?bin[keys[0]]:bin[short]}",
  "if(typeof bin!=='string')continue;let file;try{file=fs.realpathSync(path.join(root,bin))}catch{continue}",
  "const head=fs.readFileSync(file).subarray(0,256).toString('utf8');",
  'const node=/\\.[cm]?js$/.test(file)||/^#!.*\\bnode\\b/.test(head);',
  `process.stdout.write(${JSON.stringify(ANSWER)}+JSON.stringify({file,node:node?process.execPath:undefined})+'\\n');break}`,
].join('');

/** Inside `uvx --from pkg python`: where the tool's executable is in the environment uv made. */
const UVX_PROBE_SCRIPT = [
  'import json,shutil,sys',
  'p=shutil.which(sys.argv[1])',
  `print(${JSON.stringify(ANSWER)}+json.dumps({"file":p})) if p else None`,
].join('\n');

/** npx options taking a value (as a separate argument); the `--x=y` form needs no entry. */
const NPX_VALUE_OPTIONS = new Set(['--prefix', '--cache', '--registry', '--userconfig', '--loglevel']);
/** npx flags that change nothing about which program runs. */
const NPX_FLAGS = new Set([
  '-y',
  '--yes',
  '-q',
  '--quiet',
  '--silent',
  '--offline',
  '--prefer-offline',
  '--prefer-online',
  '--no-update-notifier',
  '--no-fund',
  '--no-audit',
]);
/** `--x=y` options of npx that change nothing about which program runs. */
const NPX_ASSIGNED = /^--(prefix|cache|registry|userconfig|loglevel|offline|prefer-offline|yes)=/;

/** A registry package name with an optional version or tag: what npm installs and names a folder after. */
const NPM_SPEC = /^((?:@[a-z0-9][a-z0-9._~-]*\/)?[a-z0-9][a-z0-9._~-]*)(?:@[^\s/:]+)?$/i;

/** The resolution plan of `npx [options] <pkg>[@version] [args…]`, if the command is one it can resolve. */
function npxPlan(args: readonly string[]): ResolutionPlan | undefined {
  const options: string[] = [];
  let index = 0;
  for (; index < args.length; index += 1) {
    const arg = args[index]!;
    if (arg === '--') {
      index += 1;
      break;
    }
    if (!arg.startsWith('-')) break;
    if (NPX_FLAGS.has(arg) || NPX_ASSIGNED.test(arg)) options.push(arg);
    else if (NPX_VALUE_OPTIONS.has(arg) && index + 1 < args.length) options.push(arg, args[(index += 1)]!);
    // `--package`, `--call` and anything else this does not know: the command may run something else.
    else return undefined;
  }
  // npm stops reading its own options at the first positional: everything after the package is the server's.
  const spec = args[index];
  if (spec === undefined) return undefined;
  const name = NPM_SPEC.exec(spec)?.[1];
  if (name === undefined) return undefined;
  const rest = args.slice(index + 1);
  return {
    runner: 'npx',
    spec,
    probe: {
      command: 'npx',
      args: [...options, '--yes', '--package', spec, '--', 'node', '-e', NPX_PROBE_SCRIPT, name],
    },
    read: (stdout) => {
      const answer = answerOf(stdout);
      if (!answer || typeof answer.file !== 'string' || !answer.file.startsWith('/')) return undefined;
      if (typeof answer.node === 'string') return { command: answer.node, args: [answer.file, ...rest] };
      return { command: answer.file, args: rest };
    },
  };
}

/** uvx options taking a value; `--from` is read apart. */
const UVX_VALUE_OPTIONS = new Set([
  '--with',
  '--python',
  '-p',
  '--index',
  '--index-url',
  '--extra-index-url',
]);
const UVX_FLAGS = new Set(['-q', '--quiet', '--offline', '--no-progress']);

/** The resolution plan of `uvx [options] <pkg> [args…]` or `uvx --from <spec> <command> [args…]`. */
function uvxPlan(args: readonly string[]): ResolutionPlan | undefined {
  const options: string[] = [];
  let from: string | undefined;
  let index = 0;
  for (; index < args.length; index += 1) {
    const arg = args[index]!;
    if (!arg.startsWith('-')) break;
    if (arg === '--from' && index + 1 < args.length) from = args[(index += 1)]!;
    else if (UVX_FLAGS.has(arg)) options.push(arg);
    else if (UVX_VALUE_OPTIONS.has(arg) && index + 1 < args.length) options.push(arg, args[(index += 1)]!);
    // `--isolated`, `--no-cache` (a throw-away environment) and anything unknown: keep the command.
    else return undefined;
  }
  const first = args[index];
  if (first === undefined) return undefined;
  // `uvx pkg@1.2` / `uvx pkg==1.2` / `uvx pkg[extra]` runs the executable named like the package.
  const executable = from === undefined ? /^[A-Za-z0-9][A-Za-z0-9._-]*/.exec(first)?.[0] : first;
  if (executable === undefined || !/^[A-Za-z0-9][A-Za-z0-9._-]*$/.test(executable)) return undefined;
  const spec = from ?? first;
  const rest = args.slice(index + 1);
  return {
    runner: 'uvx',
    spec,
    probe: {
      command: 'uvx',
      args: [...options, '--from', spec, 'python', '-c', UVX_PROBE_SCRIPT, executable],
    },
    read: (stdout) => {
      const answer = answerOf(stdout);
      if (!answer || typeof answer.file !== 'string' || !answer.file.startsWith('/')) return undefined;
      return { command: answer.file, args: rest };
    },
  };
}

function answerOf(stdout: string): Record<string, unknown> | undefined {
  const line = stdout.split('\n').find((l) => l.startsWith(ANSWER));
  if (line === undefined) return undefined;
  try {
    const parsed: unknown = JSON.parse(line.slice(ANSWER.length));
    return typeof parsed === 'object' && parsed !== null ? (parsed as Record<string, unknown>) : undefined;
  } catch {
    return undefined;
  }
}

/** The plan for `command`, when it is a package runner this module knows and reads; undefined otherwise. */
export function resolutionPlan(original: Launchable): ResolutionPlan | undefined {
  const runner = basename(original.command);
  if (runner === 'npx') return npxPlan(original.args);
  if (runner === 'uvx') return uvxPlan(original.args);
  return undefined;
}

/** The default {@link CommandResolver}: plans, runs the probe once, and falls back to the command as given. */
export const resolveCommand: CommandResolver = async (original, run) => {
  const plan = resolutionPlan(original);
  if (!plan) return { launch: original, resolved: false, note: undefined };
  const given = `running \`${[original.command, ...original.args].join(' ')}\` as given`;
  let outcome: ProbeOutcome;
  try {
    outcome = await run(plan.probe);
  } catch (err) {
    outcome = { code: undefined, stdout: '', failure: err instanceof Error ? err.message : String(err) };
  }
  const launch = outcome.code === 0 ? plan.read(outcome.stdout) : undefined;
  if (!launch) {
    const why =
      outcome.failure ??
      (outcome.code === 0
        ? 'the probe named no program'
        : `the probe exited with code ${outcome.code ?? '?'}`);
    return {
      launch: original,
      resolved: false,
      note: `[mcp-gateway] could not resolve ${plan.runner} package ${plan.spec} (${why}); ${given}`,
    };
  }
  return {
    launch,
    resolved: true,
    note: `[mcp-gateway] resolved ${plan.runner} package ${plan.spec} to \`${[launch.command, ...launch.args].join(' ')}\`; its server processes start it directly`,
  };
};

/** A resolver that keeps every command as given (`resolvePackageRunners: false`). */
export const KEEP_COMMAND: CommandResolver = async (original) => ({
  launch: original,
  resolved: false,
  note: undefined,
});
