import { describe, expect, it } from 'vitest';
import { addressKey } from '@hms/platform';

describe('addressKey: what a client address is counted under', () => {
  it('counts an IPv4 address as itself, written plainly or IPv4-mapped', () => {
    expect(addressKey('203.0.113.7')).toBe('203.0.113.7');
    expect(addressKey('::ffff:203.0.113.7')).toBe('203.0.113.7');
    expect(addressKey('::FFFF:203.0.113.7')).toBe('203.0.113.7');
  });

  it('counts every address of one IPv6 /64 under one key, however it is written', () => {
    const key = '2001:db8:abcd:12::/64';
    expect(addressKey('2001:db8:abcd:12::1')).toBe(key);
    expect(addressKey('2001:0db8:abcd:0012:ffff:ffff:ffff:fffe')).toBe(key);
    expect(addressKey('2001:DB8:ABCD:12:0:0:0:9')).toBe(key);
    expect(addressKey('2001:db8:abcd:12::1.2.3.4')).toBe(key);
    expect(addressKey('fe80::1%eth0')).toBe('fe80:0:0:0::/64');
  });

  it('keeps neighbouring /64s apart', () => {
    expect(addressKey('2001:db8:abcd:13::1')).toBe('2001:db8:abcd:13::/64');
    expect(addressKey('::1')).toBe('0:0:0:0::/64');
    expect(addressKey('2001:db8::')).toBe('2001:db8:0:0::/64');
  });

  it('answers what is not an address as given', () => {
    expect(addressKey('unknown')).toBe('unknown');
    expect(addressKey('')).toBe('');
  });
});
