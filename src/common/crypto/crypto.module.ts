import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import { Global, Logger, Module } from '@nestjs/common';
import { ConfigService } from '@nestjs/config';
import type { Settings } from '../../config/settings.js';
import { SecretBox } from './secret-box.js';

/**
 * The key that encrypts secrets at rest. With DATABASE_URL it must be given (config refuses to
 * start otherwise); in embedded mode it is generated once into $DATA_DIR/encryption.key.
 */
function resolveEncryptionKey(config: ConfigService<Settings, true>): Buffer {
  const given = config.get('secrets', { infer: true }).encryptionKey;
  if (given) {
    return Buffer.from(given, 'base64');
  }
  const dir = config.get('database', { infer: true }).dataDir;
  const file = join(dir, 'encryption.key');
  if (!existsSync(file)) {
    mkdirSync(dir, { recursive: true });
    writeFileSync(file, randomBytes(32).toString('base64') + '\n', { mode: 0o600, flag: 'wx' });
    new Logger('Crypto').log(`generated an encryption key in ${file}; back it up with the data`);
  }
  return Buffer.from(readFileSync(file, 'utf8').trim(), 'base64');
}

@Global()
@Module({
  providers: [
    {
      provide: SecretBox,
      inject: [ConfigService],
      useFactory: (config: ConfigService<Settings, true>) =>
        new SecretBox(resolveEncryptionKey(config)),
    },
  ],
  exports: [SecretBox],
})
export class CryptoModule {}
