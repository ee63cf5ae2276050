import { describe, expect, it } from 'vitest';
import { clientQueryFor, queryOf, withQuery } from './upstream-query.js';

describe('the client query on its way upstream', () => {
  it('reads the query of a request URL as it was sent', () => {
    expect(queryOf('http://gw/adapters/x/mcp')).toBe('');
    expect(queryOf('http://gw/adapters/x/mcp?')).toBe('');
    expect(queryOf('http://gw/adapters/x/mcp?tenant=a&b=%20c+d')).toBe('tenant=a&b=%20c+d');
    expect(queryOf('http://gw/adapters/x/mcp?tenant=a#frag')).toBe('tenant=a');
  });

  it('passes the whole query when the registered URL has none', () => {
    expect(clientQueryFor('http://up:8080/mcp', 'tenant=a&tenant=b&x')).toBe('tenant=a&tenant=b&x');
    expect(clientQueryFor('http://up:8080/mcp?', 'tenant=a')).toBe('tenant=a');
  });

  it('leaves out the parameters the registered URL pins, however the client spells their names', () => {
    const pinned = 'http://up/mcp?tenant=ops&api%20key=s3cret';
    expect(clientQueryFor(pinned, 'tenant=evil&region=eu')).toBe('region=eu');
    expect(clientQueryFor(pinned, 'ten%61nt=evil&api+key=mine&api%20key=mine&q=%2F')).toBe('q=%2F');
    expect(clientQueryFor(pinned, 'tenant=evil')).toBe('');
  });

  it('appends after ? or &, and never after a fragment', () => {
    expect(withQuery('/mcp', '')).toBe('/mcp');
    expect(withQuery('/mcp', 'tenant=a')).toBe('/mcp?tenant=a');
    expect(withQuery('/mcp?key=1', 'tenant=a')).toBe('/mcp?key=1&tenant=a');
    expect(withQuery('/mcp?', 'tenant=a')).toBe('/mcp?tenant=a');
    expect(withQuery('/mcp?key=1&', 'tenant=a')).toBe('/mcp?key=1&tenant=a');
    expect(withQuery('http://up/mcp?key=1#top', 'tenant=a')).toBe('http://up/mcp?key=1&tenant=a');
  });
});
