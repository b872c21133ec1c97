import { describe, expect, it } from '@jest/globals';
import type { ConfigService } from '@nestjs/config';
import { Clock } from '../common/clock.js';
import type { Settings } from '../config/settings.js';
import { AttemptLimiter } from './attempt-limiter.service.js';
import { MemoryAttemptStore } from './attempt-store.js';
import { LoginThrottle, typedIdentifier } from './login-throttle.js';

class FixedClock extends Clock {
  override now(): Date {
    return new Date(1_800_000_000_000);
  }
}

function throttle(disclosure: 'explicit' | 'generic'): LoginThrottle {
  const clock = new FixedClock();
  const limiter = new AttemptLimiter(new MemoryAttemptStore(() => clock.now().getTime()), clock);
  const config = { get: () => ({ disclosure }) } as unknown as ConfigService<Settings, true>;
  return new LoginThrottle(limiter, config);
}

const bob = {
  id: '6f1d0c2e-0000-4000-8000-000000000001',
  username: 'bob',
  email: 'bob@example.com',
};
let address = 0;
const subject = (identifier: string, user: typeof bob | null) => ({
  identifier,
  user,
  ip: `192.0.2.${(address += 1)}`,
  knownDevice: false,
});

/** Five failed sign-ins under `identifier` (each from its own address). */
async function failFive(t: LoginThrottle, identifier: string, user: typeof bob | null) {
  for (let i = 0; i < 5; i += 1) {
    const attempt = await t.begin(subject(identifier, user));
    expect(attempt.silentlyLocked).toBe(false);
  }
}

describe('typedIdentifier', () => {
  it('folds letter case and compatibility forms, so they share one counter', () => {
    expect(typedIdentifier('BOB')).toBe('bob');
    expect(typedIdentifier('ｂｏｂ')).toBe('bob');
    expect(typedIdentifier('Bob@Example.COM')).toBe('bob@example.com');
  });
});

describe('LoginThrottle', () => {
  it('explicit: the account is one counter whatever name reaches it, and its lockout is a 429', async () => {
    const t = throttle('explicit');
    await failFive(t, 'bob', bob);
    await expect(t.begin(subject('bob@example.com', bob))).rejects.toMatchObject({
      code: 'TOO_MANY_ATTEMPTS',
    });
  });

  it('generic: the visible counter is the name as typed; the account locks silently', async () => {
    const t = throttle('generic');
    await failFive(t, 'bob', bob);
    await expect(t.begin(subject('BOB', bob))).rejects.toMatchObject({ code: 'TOO_MANY_ATTEMPTS' });
    const byEmail = await t.begin(subject('bob@example.com', bob));
    expect(byEmail.silentlyLocked).toBe(true);
    // An unknown name is throttled the same way a known one is, and never silently.
    await failFive(t, 'nobody', null);
    await expect(t.begin(subject('nobody', null))).rejects.toMatchObject({
      code: 'TOO_MANY_ATTEMPTS',
    });
  });

  it('clearAccount forgets the account and both of its names', async () => {
    const t = throttle('generic');
    await failFive(t, 'bob', bob);
    await t.clearAccount(bob);
    const again = await t.begin(subject('bob', bob));
    expect(again.silentlyLocked).toBe(false);
  });

  it('a known device counts only against the client address', async () => {
    const t = throttle('generic');
    await failFive(t, 'bob', bob);
    const fromDevice = await t.begin({ ...subject('bob', bob), knownDevice: true });
    expect(fromDevice.silentlyLocked).toBe(false);
  });
});
