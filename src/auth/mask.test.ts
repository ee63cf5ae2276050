import { describe, expect, it } from 'vitest';
import { maskForReader } from './mask.js';

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
});
