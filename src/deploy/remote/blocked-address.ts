/**
 * @module blocked-address: the SSRF guard of the remote runtime. Link-local ranges and cloud metadata
 * endpoints hand out credentials to whoever asks from inside the network, so a registered endpoint must never
 * point there unless an operator explicitly allows it. Pure functions: usable on every runtime.
 */

/** Host names of cloud metadata services. */
const METADATA_HOSTS = new Set([
  'metadata.google.internal',
  'metadata.goog',
  'metadata',
  'instance-data',
  'instance-data.ec2.internal',
]);

function ipv4Parts(address: string): number[] | undefined {
  const match = /^(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})$/.exec(address);
  if (!match) return undefined;
  const parts = match.slice(1).map(Number);
  return parts.every((p) => p <= 255) ? parts : undefined;
}

function blockedIpv4([a, b, c, d]: number[]): string | undefined {
  if (a === 169 && b === 254) return 'a link-local address (cloud metadata lives at 169.254.169.254)';
  if (a === 100 && b === 100 && c === 100 && d === 200) return 'a cloud metadata address';
  if (a === 0) return 'an unspecified address';
  if (a! >= 224) return 'a multicast or reserved address';
  return undefined;
}

function blockedIpv6(address: string): string | undefined {
  const lower = address.toLowerCase();
  const mapped = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/.exec(lower);
  if (mapped) {
    const parts = ipv4Parts(mapped[1]!);
    return parts ? blockedIpv4(parts) : undefined;
  }
  // The URL parser normalises an IPv4-mapped address to hex: ::ffff:a9fe:a9fe is 169.254.169.254.
  const hexMapped = /^::ffff:([0-9a-f]{1,4}):([0-9a-f]{1,4})$/.exec(lower);
  if (hexMapped) {
    const high = parseInt(hexMapped[1]!, 16);
    const low = parseInt(hexMapped[2]!, 16);
    return blockedIpv4([high >> 8, high & 255, low >> 8, low & 255]);
  }
  if (/^fe[89ab][0-9a-f]?:/.test(lower)) return 'a link-local address';
  if (lower === 'fd00:ec2::254') return 'a cloud metadata address';
  if (lower === '::') return 'an unspecified address';
  if (lower.startsWith('ff')) return 'a multicast address';
  return undefined;
}

/** Why an IP address (v4 or v6, without brackets) must not be contacted, or undefined when it may. */
export function blockedAddressReason(address: string): string | undefined {
  const v4 = ipv4Parts(address);
  if (v4) return blockedIpv4(v4);
  return address.includes(':') ? blockedIpv6(address) : undefined;
}

/** Why a URL's host must not be contacted (literal addresses and metadata host names), or undefined. */
export function blockedUrlReason(url: string): string | undefined {
  let host: string;
  try {
    host = new URL(url).hostname.toLowerCase().replace(/^\[|\]$/g, '');
  } catch {
    return 'not a URL';
  }
  if (METADATA_HOSTS.has(host.replace(/\.$/, ''))) return 'a cloud metadata host';
  return blockedAddressReason(host);
}
