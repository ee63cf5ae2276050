/**
 * A command line in `command` (`"npx -y server"`) is never found when spawned and would restart forever: the API
 * refuses it with a 400 that says to put the arguments in `args`. A path that really contains a space and names
 * a file on the gateway host is a program like any other.
 */
import { chmodSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { isProgramFile } from '../deploy/process/index.js';
import { createTestApp, imageTool, json } from '../../test/test-app.js';

const scratch = mkdtempSync(join(tmpdir(), 'mcp-gateway-command-line-'));
afterAll(() => rmSync(scratch, { recursive: true, force: true }));

/** A program in a folder whose name has a space, as `/opt/My Tools/server` would be. */
const folderWithSpace = join(scratch, 'My Tools');
mkdirSync(folderWithSpace);
const programWithSpace = join(folderWithSpace, 'mcp server');
writeFileSync(programWithSpace, '#!/bin/sh\n');
chmodSync(programWithSpace, 0o755);

const REFUSAL =
  'contains whitespace and is not the path of a file on the gateway host; it must be one program name or path: put the arguments in `args`, e.g. "command": "npx", "args": ["-y", "@modelcontextprotocol/server-everything"]';

interface ErrorBody {
  error: { message: string; details?: { path: string; message: string }[] };
}

const toolWith = (name: string, command: string) => {
  const { imageName: _i, imageVersion: _v, ...tool } = imageTool(name);
  return { ...tool, command };
};

let close: (() => Promise<void>) | undefined;
afterEach(async () => {
  await close?.();
  close = undefined;
});

/** The app as `npm start` builds it: the gateway host's filesystem answers for commands with whitespace. */
async function hostApp() {
  const test = await createTestApp({ isProgramFile: (command) => isProgramFile(command) });
  close = test.close;
  return test;
}

async function expectCommandLineRefused(res: Response) {
  expect(res.status).toBe(400);
  const { error } = (await res.json()) as ErrorBody;
  expect(error.message).toBe(`command: ${REFUSAL}`);
  expect(error.details).toEqual([{ path: 'command', message: REFUSAL }]);
}

describe('a command line in command', () => {
  it.each([
    ['the README shape', 'npx -y @modelcontextprotocol/server-everything'],
    ['a tab', 'npx\t-y'],
    ['a path followed by an argument', `${process.execPath} --version`],
    ['a folder with a space', folderWithSpace],
    ['a relative path that names nothing', './bin/my server'],
  ])('%s is a 400 on create that says to use args, and nothing is stored', async (_what, command) => {
    const { app, store } = await hostApp();
    await expectCommandLineRefused(await app.request('/adapters', json('POST', { name: 'a', command })));
    await expectCommandLineRefused(await app.request('/tools', json('POST', toolWith('t', command))));
    expect(await store.list('adapter', { limit: 10 })).toEqual([]);
    expect(await store.list('tool', { limit: 10 })).toEqual([]);
  });

  it('is a 400 on replace too, and the stored resource is unchanged', async () => {
    const { app } = await hostApp();
    expect((await app.request('/adapters', json('POST', { name: 'a', command: 'npx' }))).status).toBe(201);
    await expectCommandLineRefused(
      await app.request('/adapters/a', json('PUT', { name: 'a', command: 'npx -y some-server' })),
    );
    expect(await (await app.request('/adapters/a')).json()).toMatchObject({ command: 'npx', args: [] });
  });

  it('a path with spaces that names a file on the gateway host is accepted as it is', async () => {
    const { app } = await hostApp();
    const created = await app.request(
      '/adapters',
      json('POST', { name: 'spaced', command: programWithSpace, args: ['--stdio'] }),
    );
    expect(created.status).toBe(201);
    expect(await created.json()).toMatchObject({ command: programWithSpace, args: ['--stdio'] });
    const tool = await app.request('/tools', json('POST', toolWith('spaced-tool', programWithSpace)));
    expect(tool.status).toBe(201);
  });

  it('without the host filesystem (the edge) every command with whitespace is refused', async () => {
    const test = await createTestApp();
    close = test.close;
    await expectCommandLineRefused(
      await test.app.request('/adapters', json('POST', { name: 'a', command: programWithSpace })),
    );
  });
});
