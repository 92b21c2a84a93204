import { BlockList, isIP } from 'node:net';

/** Pure helpers for reading credentials and the client address from a request. */

/** Parses `TRUSTED_PROXIES` (addresses or CIDRs, comma-separated) into a BlockList. */
export function trustedProxies(spec: string): BlockList {
  const list = new BlockList();
  for (const raw of spec.split(',')) {
    const entry = raw.trim();
    if (!entry) continue;
    const [address = '', bits] = entry.split('/');
    const family = isIP(address) === 6 ? 'ipv6' : 'ipv4';
    if (isIP(address) === 0) throw new Error(`TRUSTED_PROXIES: not an address: ${entry}`);
    if (bits === undefined) list.addAddress(address, family);
    else list.addSubnet(address, Number(bits), family);
  }
  return list;
}

const normalize = (ip: string) => (ip.startsWith('::ffff:') && isIP(ip.slice(7)) === 4 ? ip.slice(7) : ip);
const trusted = (list: BlockList, ip: string) => {
  const family = isIP(ip);
  return family !== 0 && list.check(ip, family === 6 ? 'ipv6' : 'ipv4');
};

/**
 * The client's address: the socket's peer, unless that peer is a trusted proxy (the gateway), in
 * which case the right-most X-Forwarded-For entry, the one that proxy wrote. Nothing further left
 * is believed, whoever wrote it, and a right-most entry that is not an address leaves the peer. A
 * client cannot choose its address by sending the header itself.
 */
export function clientIp(peer: string, forwardedFor: string | undefined, proxies: BlockList): string {
  const ip = normalize(peer);
  if (!trusted(proxies, ip) || !forwardedFor) return ip;
  const last = normalize(forwardedFor.slice(forwardedFor.lastIndexOf(',') + 1).trim());
  return isIP(last) !== 0 ? last : ip;
}

/** RFC 6749 §2.3.1: `Basic base64(urlencode(id) ":" urlencode(secret))`. */
export function parseBasicAuth(header: string | undefined): { id: string; secret: string } | undefined {
  if (!header) return undefined;
  const m = /^Basic ([A-Za-z0-9+/=]+)$/i.exec(header.trim());
  if (!m?.[1]) return undefined;
  const decoded = Buffer.from(m[1], 'base64').toString('utf8');
  const colon = decoded.indexOf(':');
  if (colon < 0) return undefined;
  try {
    return {
      id: decodeURIComponent(decoded.slice(0, colon).replace(/\+/g, ' ')),
      secret: decodeURIComponent(decoded.slice(colon + 1).replace(/\+/g, ' ')),
    };
  } catch {
    return undefined;
  }
}
