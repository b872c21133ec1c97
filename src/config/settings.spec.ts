import { describe, expect, it } from '@jest/globals';
import { InvalidSettingsError } from './env.validation.js';
import { loadSettings } from './settings.js';

function problemsOf(env: Record<string, string>): string[] {
  try {
    loadSettings(env);
  } catch (error) {
    if (error instanceof InvalidSettingsError) {
      return error.problems;
    }
    throw error;
  }
  throw new Error('expected the settings to be rejected');
}

describe('loadSettings', () => {
  it('applies the contract defaults to an empty environment', () => {
    const s = loadSettings({});
    expect(s.http).toMatchObject({
      port: 3000,
      host: '0.0.0.0',
      publicUrl: 'http://localhost:3000',
      trustProxy: false,
    });
    expect(s.tokens).toEqual({
      accessTtl: 900,
      refreshTtl: 604800,
      sessionMaxLifetime: 2592000,
      signingKeyRotation: 7776000,
    });
    expect(s.reset).toEqual({ linkTtl: 300, sessionTtl: 600, disclosure: 'explicit' });
    expect(s.emailVerification).toEqual({ ttl: 86400 });
    expect(s.password).toEqual({ minLength: 8, maxLength: 128, history: 3, temporaryTtl: 604800 });
    expect(s.admin.username).toBe('admin');
    expect(s.database.url).toBeUndefined();
    expect(s.memory).toEqual({ trimAfterIdle: 1 });
  });

  it('reads durations as seconds or with a unit', () => {
    const s = loadSettings({
      ACCESS_TOKEN_TTL: '300',
      REFRESH_TOKEN_TTL: '2d',
      SESSION_MAX_LIFETIME: '12h',
      TEMPORARY_PASSWORD_TTL: '1d',
      EMAIL_VERIFICATION_TTL: '90m',
    });
    expect(s.tokens).toEqual({
      accessTtl: 300,
      refreshTtl: 172800,
      sessionMaxLifetime: 43200,
      signingKeyRotation: 7776000,
    });
    expect(s.password.temporaryTtl).toBe(86400);
    expect(s.emailVerification.ttl).toBe(5400);
  });

  it('reads SIGNING_KEY_ROTATION as a duration, or 0 for rotation by hand only', () => {
    expect(loadSettings({ SIGNING_KEY_ROTATION: '30d' }).tokens.signingKeyRotation).toBe(2592000);
    expect(loadSettings({ SIGNING_KEY_ROTATION: '0' }).tokens.signingKeyRotation).toBe(0);
    expect(problemsOf({ SIGNING_KEY_ROTATION: 'never' }).join('\n')).toMatch(
      /SIGNING_KEY_ROTATION must be integer seconds or <n>s\|m\|h\|d \(e\.g\. 300 or 5m\) or 0/,
    );
    expect(problemsOf({ ACCESS_TOKEN_TTL: '0' }).join('\n')).toMatch(/ACCESS_TOKEN_TTL/);
  });

  it('reads MEMORY_TRIM_AFTER_IDLE as a duration, or 0 for never', () => {
    expect(loadSettings({ MEMORY_TRIM_AFTER_IDLE: '5m' }).memory.trimAfterIdle).toBe(300);
    expect(loadSettings({ MEMORY_TRIM_AFTER_IDLE: '0' }).memory.trimAfterIdle).toBe(0);
    expect(problemsOf({ MEMORY_TRIM_AFTER_IDLE: '-1' }).join('\n')).toMatch(
      /MEMORY_TRIM_AFTER_IDLE must be integer seconds or <n>s\|m\|h\|d \(e\.g\. 300 or 5m\) or 0/,
    );
  });

  it('names every bad variable at once', () => {
    const problems = problemsOf({
      PORT: 'abc',
      ACCESS_TOKEN_TTL: '5 minutes',
      PASSWORD_RESET_DISCLOSURE: 'loud',
      EMAIL_VERIFICATION_TTL: 'a day',
    });
    expect(problems.join('\n')).toMatch(/PORT/);
    expect(problems.join('\n')).toMatch(/ACCESS_TOKEN_TTL/);
    expect(problems.join('\n')).toMatch(/PASSWORD_RESET_DISCLOSURE/);
    expect(problems.join('\n')).toMatch(/EMAIL_VERIFICATION_TTL/);
  });

  it('says a non-numeric PORT must be an integer, once', () => {
    expect(problemsOf({ PORT: 'abc' })).toEqual([
      'PORT: PORT must be an integer from 0 to 65535, got "abc"',
    ]);
    expect(problemsOf({ MANAGEMENT_PORT: '70000' })).toEqual([
      'MANAGEMENT_PORT: MANAGEMENT_PORT must be an integer from 0 to 65535, got "70000"',
    ]);
    expect(problemsOf({ PASSWORD_HISTORY: '1e3' }).join()).toMatch(
      /PASSWORD_HISTORY must be an integer/,
    );
  });

  it('serves operators on MANAGEMENT_PORT 9000 by default, on HOST unless told otherwise', () => {
    expect(loadSettings({}).management).toEqual({ port: 9000, host: '0.0.0.0' });
    expect(loadSettings({ MANAGEMENT_PORT: '0', HOST: '127.0.0.1' }).management).toEqual({
      port: 0,
      host: '127.0.0.1',
    });
  });

  it('logs JSON lines unless the output is a terminal outside production', () => {
    expect(loadSettings({}).log).toEqual({ level: 'info', format: 'json' });
    expect(loadSettings({}, { isTerminal: true }).log.format).toBe('pretty');
    expect(loadSettings({ NODE_ENV: 'production' }, { isTerminal: true }).log.format).toBe('json');
    expect(loadSettings({ LOG_FORMAT: 'json' }, { isTerminal: true }).log.format).toBe('json');
    expect(problemsOf({ LOG_LEVEL: 'verbose' }).join()).toMatch(/LOG_LEVEL/);
  });

  it('requires ENCRYPTION_KEY when DATABASE_URL is set', () => {
    expect(problemsOf({ DATABASE_URL: 'postgres://x@localhost/db' }).join()).toMatch(
      /ENCRYPTION_KEY/,
    );
  });

  it('rejects a minimum password length above the maximum', () => {
    expect(problemsOf({ PASSWORD_MIN_LENGTH: '20', PASSWORD_MAX_LENGTH: '10' }).join()).toMatch(
      /PASSWORD_MIN_LENGTH/,
    );
  });

  it('reads TRUST_PROXY=true as one trusted proxy hop, a number as that many, or a list of addresses', () => {
    // Not "trust every hop": that would make the client's own leftmost entry its address.
    expect(loadSettings({ TRUST_PROXY: 'true' }).http.trustProxy).toBe(1);
    expect(loadSettings({ TRUST_PROXY: '2' }).http.trustProxy).toBe(2);
    expect(loadSettings({ TRUST_PROXY: 'false' }).http.trustProxy).toBe(false);
    expect(loadSettings({ TRUST_PROXY: '0' }).http.trustProxy).toBe(false);
    expect(loadSettings({ TRUST_PROXY: '10.0.0.0/8, 127.0.0.1' }).http.trustProxy).toEqual([
      '10.0.0.0/8',
      '127.0.0.1',
    ]);
    expect(problemsOf({ TRUST_PROXY: 'yes please' }).join()).toMatch(/TRUST_PROXY/);
  });

  it('prefixes Redis keys with portcullis: unless REDIS_KEY_PREFIX says otherwise', () => {
    expect(loadSettings({}).redis.keyPrefix).toBe('portcullis:');
    expect(loadSettings({ REDIS_KEY_PREFIX: 'idp-staging:' }).redis.keyPrefix).toBe('idp-staging:');
    expect(problemsOf({ REDIS_KEY_PREFIX: 'has space' }).join()).toMatch(/REDIS_KEY_PREFIX/);
  });

  it('strips a trailing slash from PUBLIC_URL', () => {
    expect(loadSettings({ PUBLIC_URL: 'https://id.example.com/' }).http.publicUrl).toBe(
      'https://id.example.com',
    );
  });
});
