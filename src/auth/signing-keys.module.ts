import { Module } from '@nestjs/common';
import { JwtModule, JwtSecretRequestType } from '@nestjs/jwt';
import { SigningKeyRotation } from './signing-key-rotation.service.js';
import { SigningKeysRepository } from './signing-keys.repository.js';
import { SigningKeys } from './signing-keys.service.js';

/** Reads the `kid` of a compact JWS without trusting anything else in it. */
function kidOf(token: string): string | undefined {
  try {
    const header = JSON.parse(Buffer.from(token.split('.')[0], 'base64url').toString('utf8')) as {
      kid?: unknown;
    };
    return typeof header.kid === 'string' ? header.kid : undefined;
  } catch {
    return undefined;
  }
}

@Module({
  providers: [SigningKeysRepository, SigningKeys, SigningKeyRotation],
  exports: [SigningKeys],
})
export class SigningKeysModule {}

/**
 * JwtService wired to our KeyObjects: the active private key signs, the kid picks the public key.
 * A call that brings its own `secret` (the unpublished challenge key) uses that instead.
 */
export const JwtWithSigningKeys = JwtModule.registerAsync({
  imports: [SigningKeysModule],
  inject: [SigningKeys],
  useFactory: (keys: SigningKeys) => ({
    secretOrKeyProvider: (
      type: JwtSecretRequestType,
      tokenOrPayload: string | object | Buffer,
      options?: object,
    ) => {
      const own = (options as { secret?: unknown } | undefined)?.secret;
      if (Buffer.isBuffer(own)) {
        return own;
      }
      if (type === JwtSecretRequestType.SIGN) {
        return keys.current.privateKey;
      }
      const key =
        typeof tokenOrPayload === 'string'
          ? keys.publicKey(kidOf(tokenOrPayload) ?? '')
          : undefined;
      if (!key) {
        throw new Error('unknown signing key');
      }
      return key;
    },
  }),
});
