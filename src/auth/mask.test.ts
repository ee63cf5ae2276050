import { describe, expect, it } from 'vitest';
import { maskForReader, maskedCommandLine } from './mask.js';

describe('maskForReader', () => {
  const resource = { name: 'w', environmentVariables: { API_KEY: 's3cret', MODE: 'x' }, replicaCount: 1 };

  it('readers see the keys with masked values; the input is untouched', () => {
    expect(maskForReader(resource, false)).toEqual({
      name: 'w',
      environmentVariables: { API_KEY: '***', MODE: '***' },
      replicaCount: 1,
    });
    expect(resource.environmentVariables.API_KEY).toBe('s3cret');
  });

  it('writers see everything; resources without variables pass through', () => {
    expect(maskForReader(resource, true)).toBe(resource);
    const bare = { name: 'x' };
    expect(maskForReader(bare, false)).toBe(bare);
    expect(maskForReader(null, false)).toBeNull();
  });

  it('keeps field order (the reference order of the API view)', () => {
    expect(Object.keys(maskForReader(resource, false))).toEqual([
      'name',
      'environmentVariables',
      'replicaCount',
    ]);
  });

  it('readers see as many args as there are, each masked, in place', () => {
    const child = { name: 'p', command: 'npx', args: ['-y', 'server', '--api-key=s3cret'], port: 8000 };
    const masked = maskForReader(child, false);
    expect(masked).toEqual({ name: 'p', command: 'npx', args: ['***', '***', '***'], port: 8000 });
    expect(Object.keys(masked)).toEqual(['name', 'command', 'args', 'port']);
    expect(child.args[2]).toBe('--api-key=s3cret');
    expect(maskForReader(child, true)).toBe(child);
  });
});

describe('maskedCommandLine', () => {
  it('shows the program and one mask per argument', () => {
    expect(maskedCommandLine('npx', ['-y', '--token=s3cret'])).toBe('npx *** ***');
    expect(maskedCommandLine('/usr/bin/server', [])).toBe('/usr/bin/server');
  });
});
