import { isIP } from 'node:net';

/**
 * The key a client address is counted under by rate limits and login throttles (one rule for the
 * gateway and the auth service). An IPv4 address (also one written IPv4-mapped, `::ffff:a.b.c.d`)
 * is its own key. An IPv6 address is counted by its /64: that is the smallest prefix a provider
 * hands one subscriber (RFC 6177), so a client holding a /64 could otherwise take a fresh budget
 * with every one of its 2^64 addresses. Anything that is not an address is answered as given.
 */
export function addressKey(address: string): string {
  const mapped = address.toLowerCase().startsWith('::ffff:') ? address.slice(7) : undefined;
  if (mapped !== undefined && isIP(mapped) === 4) return mapped;
  if (isIP(address) !== 6) return address;
  const groups = expandIpv6(address.split('%')[0] as string);
  return `${groups.slice(0, 4).join(':')}::/64`;
}

/** The eight 16-bit groups of an IPv6 address, in lower-case hex without leading zeros. */
function expandIpv6(address: string): string[] {
  let text = address.toLowerCase();
  // a dotted IPv4 tail (`::1.2.3.4`) is two groups
  const dotted = /(\d+)\.(\d+)\.(\d+)\.(\d+)$/.exec(text);
  if (dotted) {
    const [a, b, c, d] = dotted.slice(1).map(Number) as [number, number, number, number];
    text = `${text.slice(0, dotted.index)}${((a << 8) | b).toString(16)}:${((c << 8) | d).toString(16)}`;
  }
  const [head = '', tail] = text.split('::');
  const left = head ? head.split(':') : [];
  const right = tail === undefined ? [] : tail ? tail.split(':') : [];
  const zeros = tail === undefined ? [] : Array<string>(8 - left.length - right.length).fill('0');
  return [...left, ...zeros, ...right].map((g) => parseInt(g, 16).toString(16));
}
