import { describe, expect, it } from 'vitest';
import {
  appUrisOf,
  callerUriOf,
  isAppUri,
  resolveCallerUri,
  upstreamUriOf,
  withAppUris,
  withResultUris,
} from './resource-uris.js';

describe('resource URIs of federated adapters', () => {
  it('puts the adapter in the authority and keeps the scheme', () => {
    expect(callerUriOf('weather', 'ui://dashboard/main.html')).toBe('ui://weather/dashboard/main.html');
    expect(callerUriOf('files', 'file:///etc/hosts')).toBe('file://files//etc/hosts');
    expect(callerUriOf('notes', 'urn:note:1')).toBe('urn://notes:/note:1');
  });

  it('gives back exactly the upstream URI and its adapter', () => {
    for (const uri of [
      'ui://dashboard/main.html',
      'file:///etc/hosts',
      'urn:note:1',
      'mailto:a@example.com',
      'https://example.com/a?b=c#d',
      'test://',
      'x:',
      'memo://one/ünï/çødé',
    ]) {
      const shown = callerUriOf('adapter-1', uri)!;
      expect(upstreamUriOf(shown), uri).toEqual({ adapter: 'adapter-1', uri });
    }
  });

  it('keeps a URI with an authority and one without apart', () => {
    expect(callerUriOf('a', 'x://y')).not.toBe(callerUriOf('a', 'x:y'));
    expect(callerUriOf('a', 'x://y')).not.toBe(callerUriOf('a', 'x:/y'));
  });

  it('names no adapter for text that is not one of its URIs', () => {
    expect(callerUriOf('a', 'no scheme here')).toBeUndefined();
    for (const uri of [
      'ui://dashboard',
      'ui:dashboard',
      'ui://%61dapter/x',
      'ui://Adapter/x',
      'ui://a:b@adapter/x',
      'ui://-bad/x',
      'ui:///x',
      '',
    ]) {
      expect(upstreamUriOf(uri), uri).toBeUndefined();
    }
  });

  it('refuses a URI naming no adapter or one out of scope, the same for both to the caller', () => {
    const inScope = (adapter: string) => adapter === 'mine';
    expect(resolveCallerUri('ui://mine/app', inScope)).toEqual({
      ok: true,
      adapter: 'mine',
      uri: 'ui://app',
    });
    expect(resolveCallerUri('ui://theirs/app', inScope)).toEqual({ ok: false, reason: 'out-of-scope' });
    expect(resolveCallerUri('ui://app', inScope)).toEqual({ ok: false, reason: 'no-adapter' });
  });

  it('rewrites URI templates like URIs, and their expansions come back to the upstream', () => {
    const template = callerUriOf('users', 'users://{id}/profile')!;
    expect(template).toBe('users://users/{id}/profile');
    expect(upstreamUriOf(template.replace('{id}', '42'))).toEqual({
      adapter: 'users',
      uri: 'users://42/profile',
    });
    const opaque = callerUriOf('files', 'file:{+path}')!;
    expect(upstreamUriOf(opaque.replace('{+path}', '/etc/hosts'))).toEqual({
      adapter: 'files',
      uri: 'file:/etc/hosts',
    });
  });

  it('tells app URIs by their scheme', () => {
    expect(isAppUri('ui://x/y')).toBe(true);
    expect(isAppUri('UI://x/y')).toBe(true);
    expect(isAppUri('file:///ui')).toBe(false);
  });

  it('rewrites the app links of a tool definition, both keys', () => {
    const tool = {
      name: 't',
      _meta: {
        ui: { resourceUri: 'ui://app/view', visibility: ['model'] },
        'ui/resourceUri': 'ui://app/old',
      },
    };
    expect(appUrisOf(tool)).toEqual(['ui://app/view', 'ui://app/old']);
    const shown = withAppUris('weather', tool);
    expect(shown._meta).toEqual({
      ui: { resourceUri: 'ui://weather/app/view', visibility: ['model'] },
      'ui/resourceUri': 'ui://weather/app/old',
    });
    expect(tool._meta.ui.resourceUri).toBe('ui://app/view');
    const plain: { name: string; _meta?: unknown } = { name: 'p' };
    expect(withAppUris('weather', plain)).toBe(plain);
  });

  it('rewrites resource links and embedded resources of a tool result', () => {
    const result = {
      content: [
        { type: 'text', text: 'see ui://app/view' },
        { type: 'resource_link', uri: 'memo://one', name: 'one' },
        { type: 'resource', resource: { uri: 'memo://two', text: '2' } },
      ],
    };
    expect(withResultUris('notes', result).content).toEqual([
      { type: 'text', text: 'see ui://app/view' },
      { type: 'resource_link', uri: 'memo://notes/one', name: 'one' },
      { type: 'resource', resource: { uri: 'memo://notes/two', text: '2' } },
    ]);
    const text = { content: [{ type: 'text', text: 'x' }] };
    expect(withResultUris('notes', text)).toBe(text);
  });
});
