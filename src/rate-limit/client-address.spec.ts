import { describe, expect, it } from '@jest/globals';
import { clientBucket } from './client-address.js';

describe('clientBucket', () => {
  it('keeps an IPv4 address as it is', () => {
    expect(clientBucket('203.0.113.7')).toBe('203.0.113.7');
  });

  it('counts an IPv4-mapped IPv6 address as its IPv4 address', () => {
    expect(clientBucket('::ffff:203.0.113.7')).toBe('203.0.113.7');
    expect(clientBucket('::FFFF:cb00:7107')).toBe('203.0.113.7');
    expect(clientBucket('0:0:0:0:0:ffff:203.0.113.7')).toBe('203.0.113.7');
  });

  it('counts IPv6 addresses by their /64, however they are written', () => {
    const bucket = '2001:db8:17:1::/64';
    expect(clientBucket('2001:db8:17:1::1')).toBe(bucket);
    expect(clientBucket('2001:0DB8:0017:0001:ffff:1:2:3')).toBe(bucket);
    expect(clientBucket('2001:db8:17:1:0:0:0:0')).toBe(bucket);
    expect(clientBucket('2001:db8:17:1::c000:201')).toBe(bucket);
    expect(clientBucket('fe80::1%eth0')).toBe('fe80:0:0:0::/64');
    expect(clientBucket('2001:db8:17:2::1')).not.toBe(bucket);
  });

  it('reads an IPv4 tail of other IPv6 addresses as two groups', () => {
    expect(clientBucket('64:ff9b::192.0.2.1')).toBe('64:ff9b:0:0::/64');
    expect(clientBucket('::1')).toBe('0:0:0:0::/64');
  });

  it('leaves anything that is not an address alone', () => {
    expect(clientBucket('unknown')).toBe('unknown');
  });
});
