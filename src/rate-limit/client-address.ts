import { isIPv4, isIPv6 } from 'node:net';

/** The eight 16-bit groups of an IPv6 address (isIPv6 must hold; a zone id is already gone). */
function ipv6Groups(address: string): number[] {
  // An embedded IPv4 tail ("::ffff:192.0.2.1") is two groups written in decimal.
  const text = address.replace(/(\d+)\.(\d+)\.(\d+)\.(\d+)$/, (_, a, b, c, d) =>
    [((Number(a) << 8) | Number(b)).toString(16), ((Number(c) << 8) | Number(d)).toString(16)].join(
      ':',
    ),
  );
  const parse = (part: string): number[] =>
    part === '' ? [] : part.split(':').map((g) => parseInt(g, 16));
  const [head, rest] = text.split('::');
  const left = parse(head);
  const right = rest === undefined ? [] : parse(rest);
  return [...left, ...Array<number>(8 - left.length - right.length).fill(0), ...right];
}

/**
 * The bucket a client address is counted in by the per-address limits: an IPv4 address as it
 * is, an IPv4-mapped IPv6 address (`::ffff:192.0.2.1`) as its IPv4 address, and an IPv6 address
 * by its /64, the smallest network a host is given: one machine can pick any of its 2^64
 * addresses, so counting single IPv6 addresses would count nothing.
 */
export function clientBucket(address: string): string {
  const plain = address.replace(/%.*$/, '');
  if (isIPv4(plain)) {
    return plain;
  }
  if (!isIPv6(plain)) {
    return plain.toLowerCase();
  }
  const groups = ipv6Groups(plain.toLowerCase());
  if (groups.slice(0, 5).every((g) => g === 0) && groups[5] === 0xffff) {
    return [groups[6] >> 8, groups[6] & 0xff, groups[7] >> 8, groups[7] & 0xff].join('.');
  }
  return `${groups
    .slice(0, 4)
    .map((g) => g.toString(16))
    .join(':')}::/64`;
}
