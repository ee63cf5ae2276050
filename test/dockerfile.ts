/**
 * @module dockerfile: reads a Dockerfile and a .dockerignore the way Docker does, far enough for tests to check
 * the image's recipe offline (no Docker engine runs on our machines): stages and their resolved base images,
 * instructions with their flags, ENV values, exec-form arguments, and which paths the build context holds.
 */

/** One instruction, continuation lines joined. */
export interface DockerInstruction {
  /** Upper-case keyword: FROM, RUN, COPY, … */
  readonly keyword: string;
  /** `--name=value` flags before the arguments (`--from`, `--interval`, …). */
  readonly flags: Readonly<Record<string, string>>;
  /** The arguments after the flags, as written (variables not expanded). */
  readonly args: string;
  /** 1-based line of the keyword. */
  readonly line: number;
}

/** A build stage: its base image with ARG defaults substituted, its name, and its instructions after FROM. */
export interface DockerStage {
  readonly image: string;
  readonly name: string | undefined;
  readonly instructions: readonly DockerInstruction[];
}

/** A parsed Dockerfile. */
export interface Dockerfile {
  /** ARGs declared before the first FROM, with their defaults. */
  readonly globalArgs: Readonly<Record<string, string>>;
  readonly stages: readonly DockerStage[];
}

/** Parses a Dockerfile; throws on an instruction before the first FROM other than ARG. */
export function parseDockerfile(text: string): Dockerfile {
  const globalArgs: Record<string, string> = {};
  const stages: { image: string; name: string | undefined; instructions: DockerInstruction[] }[] = [];
  for (const instruction of instructionsOf(text)) {
    if (instruction.keyword === 'FROM') {
      const [image = '', as, name] = instruction.args.split(/\s+/);
      if (as !== undefined && as.toUpperCase() !== 'AS')
        throw new Error(`line ${instruction.line}: bad FROM`);
      stages.push({ image: expand(image, globalArgs), name, instructions: [] });
      continue;
    }
    const stage = stages.at(-1);
    if (stage) {
      stage.instructions.push(instruction);
    } else if (instruction.keyword === 'ARG') {
      const [key = '', value = ''] = splitOnce(instruction.args, '=');
      globalArgs[key.trim()] = value.trim();
    } else {
      throw new Error(`line ${instruction.line}: ${instruction.keyword} before the first FROM`);
    }
  }
  return { globalArgs, stages };
}

function instructionsOf(text: string): DockerInstruction[] {
  const instructions: DockerInstruction[] = [];
  const lines = text.split('\n');
  for (let i = 0; i < lines.length; i++) {
    const first = (lines[i] ?? '').trim();
    // Comments, parser directives (`# syntax=…`) and blank lines.
    if (first === '' || first.startsWith('#')) continue;
    const start = i + 1;
    let joined = '';
    for (let line = first; ; line = (lines[++i] ?? '').trim()) {
      // Docker drops comment lines inside a continued instruction.
      if (line.startsWith('#')) continue;
      if (line.endsWith('\\') && i < lines.length - 1) {
        joined += `${line.slice(0, -1)} `;
        continue;
      }
      joined += line;
      break;
    }
    const match = /^(\S+)\s*(.*)$/s.exec(joined.trim());
    if (!match) continue;
    let rest = match[2] ?? '';
    const flags: Record<string, string> = {};
    for (;;) {
      const flag = /^--([a-z-]+)(?:=(\S*))?\s*/.exec(rest);
      if (!flag) break;
      flags[flag[1] as string] = flag[2] ?? 'true';
      rest = rest.slice(flag[0].length);
    }
    instructions.push({ keyword: (match[1] as string).toUpperCase(), flags, args: rest.trim(), line: start });
  }
  return instructions;
}

/** `$NAME` and `${NAME}` from `vars`; an unknown variable throws (the test must know every value). */
export function expand(value: string, vars: Readonly<Record<string, string>>): string {
  return value.replace(/\$\{(\w+)\}|\$(\w+)/g, (_, braced: string | undefined, bare: string | undefined) => {
    const key = (braced ?? bare) as string;
    const found = vars[key];
    if (found === undefined) throw new Error(`unknown variable $${key}`);
    return found;
  });
}

/** The instructions of a stage with `keyword`. */
export function instructions(stage: DockerStage, keyword: string): DockerInstruction[] {
  return stage.instructions.filter((i) => i.keyword === keyword);
}

/** The JSON (exec) form of CMD, ENTRYPOINT, RUN or HEALTHCHECK CMD, or undefined for the shell form. */
export function execForm(args: string): string[] | undefined {
  if (!args.startsWith('[')) return undefined;
  const parsed: unknown = JSON.parse(args);
  if (!Array.isArray(parsed) || !parsed.every((a) => typeof a === 'string'))
    throw new Error(`exec form must be a JSON array of strings: ${args}`);
  return parsed;
}

/** The environment a stage's ENV instructions leave (`ENV A=1 B=2` and the legacy `ENV A 1`). */
export function stageEnv(stage: DockerStage): Record<string, string> {
  const env: Record<string, string> = {};
  for (const { args } of instructions(stage, 'ENV')) {
    if (!/^\S+=/.test(args)) {
      const [key = '', value = ''] = splitOnce(args, ' ');
      env[key] = value.trim();
      continue;
    }
    for (const pair of args.match(/\S+="[^"]*"|\S+=\S*/g) ?? []) {
      const [key = '', value = ''] = splitOnce(pair, '=');
      env[key] = value.replace(/^"(.*)"$/, '$1');
    }
  }
  return env;
}

function splitOnce(text: string, separator: string): [string, string | undefined] {
  const at = text.indexOf(separator);
  return at < 0 ? [text, undefined] : [text.slice(0, at), text.slice(at + separator.length)];
}

/**
 * Whether `.dockerignore` keeps `path` (relative to the context, `/`-separated) out of the build context:
 * Docker's rules — patterns in order, the last one that matches the path or one of its parent directories
 * decides, `!` re-includes, `*` and `?` stay within one path segment, `**` spans any number of them.
 */
export function isIgnored(dockerignore: string, path: string): boolean {
  let ignored = false;
  for (const raw of dockerignore.split('\n')) {
    let pattern = raw.trim();
    if (pattern === '' || pattern.startsWith('#')) continue;
    const negated = pattern.startsWith('!');
    if (negated) pattern = pattern.slice(1).trim();
    pattern = pattern.replace(/^\.?\/+/, '').replace(/\/+$/, '');
    const regex = globToRegExp(pattern);
    const segments = path.split('/');
    const candidates = segments.map((_, i) => segments.slice(0, i + 1).join('/'));
    if (candidates.some((candidate) => regex.test(candidate))) ignored = !negated;
  }
  return ignored;
}

function globToRegExp(pattern: string): RegExp {
  let source = '';
  for (let i = 0; i < pattern.length; i++) {
    const c = pattern[i] as string;
    if (c === '*' && pattern[i + 1] === '*') {
      // `**/` may match no directory at all, as in `src/**/*.test.ts` matching `src/a.test.ts`.
      if (pattern[i + 2] === '/') {
        source += '(?:.*/)?';
        i += 2;
      } else {
        source += '.*';
        i += 1;
      }
    } else if (c === '*') source += '[^/]*';
    else if (c === '?') source += '[^/]';
    else source += c.replace(/[.+^${}()|[\]\\]/g, '\\$&');
  }
  return new RegExp(`^${source}$`);
}
