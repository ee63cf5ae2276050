/**
 * @module Tests of ProcessDeployer: the Deployer contract over both transports, and what only local processes
 * have — environment isolation, process-tree reaping, restart backoff, failure modes and logs.
 */
import { join } from 'node:path';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { createLogger } from '../../observability/index.js';
import { eventually, until } from '../../../test/polling.js';
import { canScanProcesses } from '../../../test/process-tree.js';
import { runDeployerContract } from '../deployer.contract.js';
import type { Deployer } from '../deployer.js';
import { refOf } from '../resource-change.js';
import type { RuntimeStatus } from '../runtime-inspector.js';
import {
  HTTP_SERVER,
  SANDBOX_WORKS,
  STDIO_SERVER,
  fastDeployer,
  firstReplica,
  killAllMarked,
  marker,
  processResource,
  running,
  runningCommands,
} from '../../../test/process-fixtures.js';
import type { ProcessDeployer } from './process-deployer.js';
import { CHILD_TAG_VARIABLE } from './process-sandbox.js';
import { SANDBOX_HOME, SANDBOX_TMP } from './sandbox-argv.js';

afterAll(() => killAllMarked());

for (const transport of ['streamable-http', 'stdio'] as const) {
  runDeployerContract(`process (${transport})`, async () => {
    const markers = new Map<string, string>();
    const deployer = fastDeployer();
    return {
      deployer,
      closeStopsReplicas: true,
      timeoutMs: 15_000,
      logLine: transport === 'stdio' ? 'stdio-echo-server started' : 'process-http-server started',
      resource: ({ name, replicaCount, environmentVariables }) => {
        const value = markers.get(name) ?? marker();
        markers.set(name, value);
        return processResource(name, { transport, replicaCount, environmentVariables, marker: value });
      },
      running: async (ref) => {
        const value = markers.get(ref.name);
        return value !== undefined && running(value).length > 0;
      },
    };
  });
}

describe('ProcessDeployer', () => {
  let deployer: ProcessDeployer;
  const open: Deployer[] = [];
  const make = (...args: Parameters<typeof fastDeployer>) => {
    deployer = fastDeployer(...args);
    open.push(deployer);
    return deployer;
  };
  afterEach(async () => {
    await Promise.all(open.splice(0).map((d) => d.close()));
  });
  const statusOf = (resource: Parameters<Deployer['status']>[0]) => deployer.status(resource);
  const statusUntil = (
    resource: Parameters<Deployer['status']>[0],
    what: string,
    check: (s: RuntimeStatus) => boolean,
    timeoutMs = 10_000,
  ) => until(() => statusOf(resource), check, what, timeoutMs, 20);

  describe('child environment', () => {
    const saved = { ...process.env };
    afterEach(() => {
      for (const key of Object.keys(process.env)) if (!(key in saved)) delete process.env[key];
      Object.assign(process.env, saved);
    });

    it("passes only environmentVariables, PORT and the safe base — never the gateway's secrets", async () => {
      process.env.MCP_GATEWAY_SECRET = 'the-gateway-secret';
      process.env.DATABASE_URL = 'postgres://user:password@db/gateway';
      make();
      const resource = processResource('env-http', {
        marker: marker(),
        environmentVariables: { API_KEY: 'user-value', PATH: '/usr/bin:/bin' },
      });
      await deployer.apply(resource);
      await eventually(() => deployer.endpoints(refOf(resource)).length === 1, 'ready', 10_000);
      const base = new URL(deployer.endpoints(refOf(resource))[0]!.url);
      const env = (await (await fetch(new URL('/env', base))).json()) as Record<string, string>;
      expect(env.API_KEY).toBe('user-value');
      expect(env.PORT).toBe(base.port);
      expect(env.PATH).toBe('/usr/bin:/bin');
      // In the sandbox HOME and TMPDIR are the replica's private directories; without it, the gateway's.
      expect(env.HOME).toBe(SANDBOX_WORKS ? SANDBOX_HOME : process.env.HOME);
      if (SANDBOX_WORKS) expect(env.TMPDIR).toBe(SANDBOX_TMP);
      expect(env.MCP_GATEWAY_SECRET).toBeUndefined();
      expect(env.DATABASE_URL).toBeUndefined();
      expect(JSON.stringify(env)).not.toContain('the-gateway-secret');
      const allowed = new Set(['API_KEY', 'PATH', 'HOME', 'TMPDIR', 'LANG', 'PORT', 'MCPGW_TEST_MARKER']);
      // Without the sandbox every child carries a random tag, so its daemons can be found.
      if (!SANDBOX_WORKS) allowed.add(CHILD_TAG_VARIABLE);
      // bubblewrap sets PWD to the directory it starts the command in: the private HOME, not the gateway's.
      if (SANDBOX_WORKS) {
        expect(env.PWD).toBe(SANDBOX_HOME);
        allowed.add('PWD');
      }
      // Node itself may add a variable or two at start-up; none of them may come from the gateway's environment.
      for (const name of Object.keys(env)) if (!allowed.has(name)) expect(saved[name]).toBeUndefined();
    });
  });

  it('passes names Kubernetes accepts (".", "-", a leading digit, a space) to the process unchanged', async () => {
    make();
    const environmentVariables = { 'my.env-name': 'a', 'API-KEY': 'b', '1ST': 'c', 'with space': 'd' };
    const resource = processResource('env-relaxed', { marker: marker(), environmentVariables });
    await deployer.apply(resource);
    await eventually(() => deployer.endpoints(refOf(resource)).length === 1, 'ready', 10_000);
    const base = new URL(deployer.endpoints(refOf(resource))[0]!.url);
    const env = (await (await fetch(new URL('/env', base))).json()) as Record<string, string>;
    for (const [name, value] of Object.entries(environmentVariables)) expect(env[name]).toBe(value);
  });

  describe.runIf(canScanProcesses)('process trees', () => {
    const tree = (script: string, replicaCount: number, value: string) =>
      processResource(`tree-${value}`, { command: 'sh', args: ['-c', script], replicaCount, marker: value });

    it('reaps grandchildren on scale-down, remove and close', async () => {
      make();
      const value = marker();
      const resource = tree('sleep 1000 & sleep 1000 & wait', 2, value);
      await deployer.apply(resource);
      await eventually(() => runningCommands(value).length === 6, 'two shells with two sleeps each', 10_000);
      await deployer.apply({ ...resource, spec: { ...resource.spec, replicaCount: 1 } });
      expect(runningCommands(value)).toHaveLength(3);
      await deployer.remove(refOf(resource));
      expect(running(value)).toEqual([]);
      await deployer.apply(resource);
      await eventually(() => runningCommands(value).length === 6, 'the tree again', 10_000);
      await deployer.close();
      expect(running(value)).toEqual([]);
    });

    it('SIGKILLs what ignores SIGTERM after the grace period, and finds descendants that left the group', async () => {
      make({ stopGraceMs: 200 });
      const value = marker();
      const resource = tree(`trap "" TERM; sleep 1000 & setsid sleep 1000 & wait`, 1, value);
      await deployer.apply(resource);
      await eventually(
        () => runningCommands(value).length === 3,
        'a shell, a sleep and a setsid sleep',
        10_000,
      );
      await deployer.remove(refOf(resource));
      expect(running(value)).toEqual([]);
    });

    it('sweeps the group of a child that died, before restarting it', async () => {
      make();
      const value = marker();
      // The shell exits at once; its sleep would survive as an orphan if the group were not swept.
      const resource = tree('sleep 1000 & exit 4', 1, value);
      await deployer.apply(resource);
      const status = await statusUntil(resource, 'a restart', (s) =>
        firstReplica(s.replicas).detail!.includes('restarts 2'),
      );
      expect(firstReplica(status.replicas).detail).toContain('last exit: exit code 4');
      expect(runningCommands(value).length).toBeLessThanOrEqual(2);
      await deployer.close();
      expect(running(value)).toEqual([]);
    });
  });

  describe('failure modes', () => {
    const backoffs = async (resource: Parameters<Deployer['status']>[0]) => {
      const logs = await deployer.logs(resource, { instance: 0, tail: 100 });
      const text = logs.ok && 'text' in logs ? logs.text : '';
      return [...text.matchAll(/restarting in (\d+) ms/g)].map((m) => Number(m[1]));
    };

    it('command not found: Failed with the reason, restarts back off instead of spinning', async () => {
      make();
      for (const transport of ['streamable-http', 'stdio'] as const) {
        const resource = processResource(`missing-${transport}`, {
          command: 'mcpgw-no-such-command',
          transport,
        });
        await deployer.apply(resource);
        const status = await statusUntil(resource, 'a failure', (s) => s.replicaStatus.startsWith('Failed'));
        expect(status.replicaStatus).toBe(
          SANDBOX_WORKS
            ? "Failed: command not found inside the sandbox: 'mcpgw-no-such-command' (not on its PATH; the sandbox sees only the system directories (/usr, /bin, /sbin, /lib*, /etc), its private HOME and /tmp, and the paths listed in MCP_GATEWAY_PROCESS_READ_PATHS)"
            : "Failed: command not found: 'mcpgw-no-such-command' (not on PATH, or the working directory does not exist)",
        );
        expect(status.readyReplicas).toBe(0);
        await eventually(async () => (await backoffs(resource)).length >= 3, 'three restarts', 10_000);
        const delays = await backoffs(resource);
        expect(delays.slice(0, 4)).toEqual([50, 100, 200, 400].slice(0, delays.slice(0, 4).length));
      }
    });

    it('exits immediately: restarts with growing delays, status shows restarts and the exit code', async () => {
      make();
      const resource = processResource('exits', { args: [HTTP_SERVER, '--exit=2'] });
      await deployer.apply(resource);
      const status = await statusUntil(resource, 'restarts', (s) =>
        /restarts [3-9]/.test(firstReplica(s.replicas).detail!),
      );
      const replica = firstReplica(status.replicas);
      expect(replica.ready).toBe(false);
      expect(replica.detail).toContain('last exit: exit code 2');
      expect(status.replicaStatus).toMatch(/^Failed: exited before ready: exit code 2/);
      const delays = await backoffs(resource);
      expect(delays[1]!).toBeGreaterThan(delays[0]!);
    });

    it('port never opens: not ready, and the detail says why', async () => {
      make({ startTimeoutMs: 150 });
      const resource = processResource('silent', { args: [HTTP_SERVER, '--never-listen'] });
      await deployer.apply(resource);
      const status = await statusUntil(
        resource,
        'a slow replica',
        (s) => firstReplica(s.replicas).state === 'NotReady',
      );
      const replica = firstReplica(status.replicas);
      expect(replica.ready).toBe(false);
      expect(replica.detail).toContain('not ready after 150 ms (still waiting)');
      expect(replica.detail).toMatch(/port \d+: ECONNREFUSED/);
      expect(status.replicaStatus).toMatch(/^Failed: not ready after 150 ms/);
      expect(deployer.endpoints(refOf(resource))).toEqual([]);
    });

    it('slow start: reported as slow, then ready', async () => {
      make({ startTimeoutMs: 100 });
      const resource = processResource('slow', { args: [HTTP_SERVER, '--delay=600'] });
      await deployer.apply(resource);
      await statusUntil(resource, 'slow', (s) => firstReplica(s.replicas).state === 'NotReady');
      const status = await statusUntil(resource, 'healthy', (s) => s.replicaStatus === 'Healthy');
      expect(firstReplica(status.replicas).state).toBe('Running');
    });

    it('a killed replica is restarted, reported, and gets a new endpoint id', async () => {
      make();
      const resource = processResource('killed');
      await deployer.apply(resource);
      const ready = await statusUntil(resource, 'ready', (s) => s.readyReplicas === 1);
      const pid = Number(/pid (\d+)/.exec(firstReplica(ready.replicas).detail!)![1]);
      const before = deployer.endpoints(refOf(resource))[0]!;
      process.kill(pid, 'SIGKILL');
      const after = await statusUntil(
        resource,
        'restarted and ready',
        (s) => s.readyReplicas === 1 && firstReplica(s.replicas).detail!.includes('restarts 1'),
      );
      expect(firstReplica(after.replicas).detail).toContain('last exit: killed by SIGKILL');
      const endpoint = deployer.endpoints(refOf(resource))[0]!;
      expect(endpoint.url).toBe(before.url);
      expect(endpoint.id).not.toBe(before.id);
    });

    it('refuses network "none" where it cannot be enforced, instead of running with the network', async () => {
      make({ sandbox: { mode: 'off' } });
      const resource = processResource('offline', { transport: 'stdio', marker: marker() });
      const offline = { ...resource, spec: { ...resource.spec, network: 'none' as const } };
      await expect(deployer.apply(offline)).rejects.toThrow(
        `adapter 'offline' asks for network "none", which cannot be enforced: the process sandbox is off`,
      );
      expect(await deployer.list()).toEqual([]);
      const http = processResource('offline-http', { transport: 'streamable-http' });
      await expect(
        deployer.apply({ ...http, spec: { ...http.spec, network: 'none' as const } }),
      ).rejects.toThrow(/which only stdio servers can have/);
    });

    it('an unusable state directory is one warning, not a failure: children still run', async () => {
      const lines: Record<string, unknown>[] = [];
      const logger = createLogger({
        level: 'warn',
        destination: {
          write: (line: string) => void lines.push(JSON.parse(line) as Record<string, unknown>),
        },
      });
      // A directory cannot be created below a file.
      make({ logger, stateDirectory: join(HTTP_SERVER, 'state') });
      const resource = processResource('stateless', { marker: marker() });
      await deployer.apply(resource);
      await eventually(() => deployer.endpoints(refOf(resource)).length === 1, 'ready', 10_000);
      expect(lines.filter((l) => String(l.msg).startsWith('process deployer: no state file'))).toHaveLength(
        1,
      );
    });

    it('refuses resources of another runtime', async () => {
      make();
      const resource = processResource('image');
      const { command: _c, args: _a, ...spec } = resource.spec;
      await expect(
        deployer.apply({ ...resource, spec: { ...spec, imageName: 'a/b', imageVersion: '1' } }),
      ).rejects.toThrow(/image runtime, not command/);
    });
  });

  describe('tools', () => {
    it('run as HTTP servers with their toolDefinition path', async () => {
      make();
      const resource = processResource('scorer', { kind: 'tool', path: '/score' });
      await deployer.apply(resource);
      await eventually(() => deployer.endpoints(refOf(resource)).length === 1, 'ready', 10_000);
      const url = deployer.endpoints(refOf(resource))[0]!.url;
      expect(url).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/score$/);
      expect(await (await fetch(url, { method: 'POST', body: '{}' })).text()).toBe('ok POST /score\n');
    });
  });

  describe('logs', () => {
    it('keeps stdout and stderr per instance, bounded, and ends a follow stream when the replica goes', async () => {
      make({ logs: { maxLines: 3 } });
      const resource = processResource('logs', { replicaCount: 2 });
      await deployer.apply(resource);
      await eventually(() => deployer.endpoints(refOf(resource)).length === 2, 'ready', 10_000);
      const text = async (instance: number, tail: number) => {
        const logs = await deployer.logs(resource, { instance, tail });
        return logs.ok && 'text' in logs ? logs.text : '';
      };
      await eventually(async () => (await text(1, 10)).includes('listening on'), 'stdout line', 10_000);
      expect(await text(1, 10)).toContain('process-http-server started pid');
      expect((await text(1, 10)).trimEnd().split('\n').length).toBeLessThanOrEqual(3);
      expect((await text(0, 1)).trimEnd().split('\n')).toHaveLength(1);

      const follow = await deployer.logs(resource, { instance: 1, tail: 1, follow: true });
      if (!follow.ok || !('stream' in follow)) throw new Error('expected a stream');
      const reader = follow.stream.getReader();
      const first = new TextDecoder().decode((await reader.read()).value);
      expect(first.split('\n').filter(Boolean)).toHaveLength(1);
      await deployer.apply({ ...resource, spec: { ...resource.spec, replicaCount: 1 } });
      expect((await reader.read()).done).toBe(true);
    });

    it('logs stdout lines of a stdio server that are not JSON-RPC', async () => {
      make();
      const resource = processResource('banner', { transport: 'stdio', args: [STDIO_SERVER, '--banner'] });
      await deployer.apply(resource);
      await eventually(
        async () => {
          const logs = await deployer.logs(resource, { instance: 0, tail: 50 });
          return (
            logs.ok && 'text' in logs && logs.text.includes('[stdout] stdio-echo-server says hello on stdout')
          );
        },
        'the banner in the log',
        10_000,
      );
    });
  });
});
