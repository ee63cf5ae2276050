/** @module Tests of how a database URL selects the registry dialect. */
import { describe, expect, it } from 'vitest';
import { openRegistryStore, parseDatabaseUrl } from './open-registry-store.js';

describe('parseDatabaseUrl', () => {
  it.each([
    ['postgres://u:p@db:5432/gw', { dialect: 'postgres', url: 'postgres://u:p@db:5432/gw' }],
    [
      'postgresql://db/gw?sslmode=require',
      { dialect: 'postgres', url: 'postgresql://db/gw?sslmode=require' },
    ],
    ['POSTGRES://db/gw', { dialect: 'postgres', url: 'POSTGRES://db/gw' }],
    [':memory:', { dialect: 'sqlite', path: ':memory:' }],
    ['file::memory:', { dialect: 'sqlite', path: ':memory:' }],
    ['./data/gateway.db', { dialect: 'sqlite', path: './data/gateway.db' }],
    ['/var/lib/gw/registry.db', { dialect: 'sqlite', path: '/var/lib/gw/registry.db' }],
    ['file:./data/gateway.db', { dialect: 'sqlite', path: './data/gateway.db' }],
    ['file:data/my%20gateway.db', { dialect: 'sqlite', path: 'data/my gateway.db' }],
    ['file:///var/lib/gw/registry.db', { dialect: 'sqlite', path: '/var/lib/gw/registry.db' }],
    ['file://localhost/var/lib/gw.db', { dialect: 'sqlite', path: '/var/lib/gw.db' }],
    ['file:///C:/gw/registry.db', { dialect: 'sqlite', path: 'C:/gw/registry.db' }],
    ['C:\\gw\\registry.db', { dialect: 'sqlite', path: 'C:\\gw\\registry.db' }],
  ])('reads %s', (url, expected) => {
    expect(parseDatabaseUrl(url)).toEqual(expected);
  });

  it.each([
    ['', /empty/],
    ['   ', /empty/],
    ['mysql://db/gw', /unsupported database URL scheme 'mysql:'/],
    ['file:./gw.db?mode=ro', /no query options/],
    ['file://otherhost/gw.db', /local file/],
  ])('refuses %j', (url, message) => {
    expect(() => parseDatabaseUrl(url)).toThrow(message);
  });
});

describe('openRegistryStore', () => {
  it('opens an in-memory SQLite store', async () => {
    const store = await openRegistryStore(':memory:');
    expect(store.dialect).toBe('sqlite');
    await store.close();
  });

  it('rejects an unsupported URL before loading any driver', async () => {
    await expect(openRegistryStore('mysql://db/gw')).rejects.toThrow(/unsupported/);
  });
});
