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

/**
 * The eight 16-bit groups of an IPv6 address in any textual form (RFC 4291 §2.2: `::`, leading zeros omitted, a
 * dotted IPv4 tail; a `%zone` is dropped), or undefined when `text` is not one.
 */
function ipv6Groups(text: string): number[] | undefined {
  let address = text.toLowerCase();
  const zone = address.indexOf('%');
  if (zone >= 0) address = address.slice(0, zone);
  if (!/^[0-9a-f:.]+$/.test(address)) return undefined;
  if (address.includes('.')) {
    // `::ffff:1.2.3.4` is `::ffff:102:304`: the dotted tail stands for the last two groups.
    const colon = address.lastIndexOf(':');
    const v4 = ipv4Parts(address.slice(colon + 1));
    if (!v4) return undefined;
    const [a, b, c, d] = v4 as [number, number, number, number];
    address = `${address.slice(0, colon + 1)}${((a << 8) | b).toString(16)}:${((c << 8) | d).toString(16)}`;
  }
  const halves = address.split('::');
  if (halves.length > 2) return undefined;
  const parse = (part: string): number[] | undefined => {
    if (part === '') return [];
    const groups = part.split(':');
    return groups.every((g) => /^[0-9a-f]{1,4}$/.test(g)) ? groups.map((g) => parseInt(g, 16)) : undefined;
  };
  const head = parse(halves[0]!);
  if (!head) return undefined;
  if (halves.length === 1) return head.length === 8 ? head : undefined;
  const tail = parse(halves[1]!);
  if (!tail || head.length + tail.length > 7) return undefined;
  return [...head, ...Array<number>(8 - head.length - tail.length).fill(0), ...tail];
}

/** The IPv4 address in two groups (high, low). */
const ipv4Of = (high: number, low: number): number[] => [high >> 8, high & 255, low >> 8, low & 255];

/** Why an embedded IPv4 address must not be contacted, said as what carries it. */
function embedded(form: string, v4: number[]): string | undefined {
  const reason = blockedIpv4(v4);
  return reason && `${form} of ${v4.join('.')}, ${reason}`;
}

const zeros = (groups: number[], from: number, to: number) => groups.slice(from, to).every((g) => g === 0);

function blockedIpv6(address: string): string | undefined {
  const g = ipv6Groups(address);
  if (!g) return undefined;
  const [g0, g1, g2, g3, g4, g5, g6, g7] = g as [
    number,
    number,
    number,
    number,
    number,
    number,
    number,
    number,
  ];
  if (zeros(g, 0, 8)) return 'an unspecified address';
  if (zeros(g, 0, 7) && g7 === 1) return undefined; // ::1, loopback
  // Forms that carry an IPv4 address: what they embed is judged as that IPv4 address. (The URL parser writes them
  // in hex — [::169.254.169.254] becomes [::a9fe:a9fe] — so the groups, not the text, are what is checked.)
  if (zeros(g, 0, 5) && g5 === 0xffff) return embedded('an IPv4-mapped address', ipv4Of(g6, g7));
  if (zeros(g, 0, 6)) return embedded('an IPv4-compatible address', ipv4Of(g6, g7));
  if (zeros(g, 0, 4) && g4 === 0xffff && g5 === 0)
    return embedded('an IPv4-translated address', ipv4Of(g6, g7));
  if (g0 === 0x64 && g1 === 0xff9b && (g2 === 0 || g2 === 1) && zeros(g, 3, 6)) {
    // 64:ff9b::/96 (RFC 6052) and the local-use 64:ff9b:1::/48 (RFC 8215) with a /96 prefix.
    return embedded('a NAT64 address', ipv4Of(g6, g7));
  }
  if (g0 === 0x2002) return embedded('a 6to4 address', ipv4Of(g1, g2));
  if (g0 === 0x2001 && g1 === 0) {
    // Teredo: the server's address in clear, the client's with every bit inverted.
    return (
      embedded('a Teredo address (server)', ipv4Of(g2, g3)) ??
      embedded('a Teredo address (client)', ipv4Of(g6 ^ 0xffff, g7 ^ 0xffff))
    );
  }
  if ((g0 & 0xffc0) === 0xfe80) return 'a link-local address';
  if ((g0 & 0xffc0) === 0xfec0) return 'a site-local address (deprecated, fec0::/10)';
  if (g0 === 0xfd00 && g1 === 0xec2 && zeros(g, 2, 7) && g7 === 0x254) return 'a cloud metadata address';
  if ((g0 & 0xff00) === 0xff00) return 'a multicast address';
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
