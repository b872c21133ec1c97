import { describe, expect, it } from '@jest/globals';
import { describeDuration, parseDuration } from './duration.js';

describe('parseDuration', () => {
  it.each([
    ['300', 300],
    ['5m', 300],
    ['45s', 45],
    ['2h', 7200],
    ['7d', 604800],
    [' 15m ', 900],
  ])('reads %p as %p seconds', (text, seconds) => {
    expect(parseDuration(text)).toBe(seconds);
  });

  it.each(['', '0', '5 m', '5min', '-5', '1.5h', 'm', '5w', '9999999999'])('rejects %p', (text) => {
    expect(parseDuration(text)).toBeUndefined();
  });
});

describe('describeDuration', () => {
  it('says minutes, hours and days in words', () => {
    expect(describeDuration(300)).toBe('5 minutes');
    expect(describeDuration(60)).toBe('1 minute');
    expect(describeDuration(3600)).toBe('1 hour');
    expect(describeDuration(90)).toBe('90 seconds');
  });
});
