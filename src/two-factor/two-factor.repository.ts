import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource, type EntityManager, In, IsNull, Not } from 'typeorm';
import { RecoveryCodeEntity } from './recovery-code.entity.js';
import { TwoFactorCredentialEntity } from './two-factor-credential.entity.js';

/**
 * A user's second factor: the authenticator (enabled, or still being set up) and the recovery
 * codes. Pass the manager of the transaction where there is one.
 */
@Injectable()
export class TwoFactorRepository {
  constructor(@InjectDataSource() private readonly dataSource: DataSource) {}

  private manager(manager?: EntityManager): EntityManager {
    return manager ?? this.dataSource.manager;
  }

  private credentials(manager?: EntityManager) {
    return this.manager(manager).getRepository(TwoFactorCredentialEntity);
  }

  private codes(manager?: EntityManager) {
    return this.manager(manager).getRepository(RecoveryCodeEntity);
  }

  isEnabled(userId: string, manager?: EntityManager): Promise<boolean> {
    return this.credentials(manager).existsBy({ userId, enabledAt: Not(IsNull()) });
  }

  async enabledAmong(userIds: string[]): Promise<Set<string>> {
    if (userIds.length === 0) {
      return new Set();
    }
    const rows = await this.credentials().find({
      select: { userId: true },
      where: { userId: In(userIds), enabledAt: Not(IsNull()) },
    });
    return new Set(rows.map((r) => r.userId));
  }

  /** The user's authenticator, enabled or still being set up. */
  find(userId: string): Promise<TwoFactorCredentialEntity | null> {
    return this.credentials().findOneBy({ userId });
  }

  findEnabled(userId: string): Promise<TwoFactorCredentialEntity | null> {
    return this.credentials().findOneBy({ userId, enabledAt: Not(IsNull()) });
  }

  /**
   * Keeps an authenticator being set up (not enabled), replacing an unconfirmed one; false, and
   * nothing written, when the user's authenticator is enabled. One statement: an enabling that
   * commits between a check and this write can never be overwritten by a new, unconfirmed secret.
   */
  async savePending(userId: string, secretSealed: string, now: Date): Promise<boolean> {
    const rows: unknown[] = await this.manager().query(
      `INSERT INTO two_factor_credentials
              (user_id, secret_sealed, enabled_at, last_used_step, created_at)
       VALUES ($1, $2, NULL, NULL, $3)
       ON CONFLICT (user_id) DO UPDATE
          SET secret_sealed = EXCLUDED.secret_sealed,
              created_at = EXCLUDED.created_at,
              last_used_step = NULL
        WHERE two_factor_credentials.enabled_at IS NULL
       RETURNING user_id`,
      [userId, secretSealed, now],
    );
    return rows.length === 1;
  }

  /** Enables an authenticator whose code of time step `step` was just accepted. */
  async saveEnabled(
    userId: string,
    secretSealed: string,
    step: number,
    now: Date,
    manager?: EntityManager,
  ): Promise<void> {
    await this.manager(manager)
      .createQueryBuilder()
      .insert()
      .into(TwoFactorCredentialEntity)
      .values({ userId, secretSealed, enabledAt: now, lastUsedStep: step, createdAt: now })
      .orUpdate(['secret_sealed', 'enabled_at', 'last_used_step', 'created_at'], ['user_id'])
      .execute();
  }

  /** Removes the authenticator and the recovery codes; true when there was an authenticator. */
  async remove(userId: string, manager?: EntityManager): Promise<boolean> {
    const removed = await this.credentials(manager).delete({ userId });
    await this.codes(manager).delete({ userId });
    return Boolean(removed.affected);
  }

  /** Records the new step only if it is newer than the last one: a replay loses the race. */
  async claimStep(userId: string, step: number): Promise<boolean> {
    const [, affected] = await this.dataSource.query<[unknown[], number]>(
      `UPDATE two_factor_credentials SET last_used_step = $2
        WHERE user_id = $1 AND (last_used_step IS NULL OR last_used_step < $2)`,
      [userId, step],
    );
    return affected === 1;
  }

  /** The user's recovery codes are these (by hash) from now on. */
  async replaceRecoveryCodes(
    userId: string,
    codeHashes: Buffer[],
    now: Date,
    manager?: EntityManager,
  ): Promise<void> {
    await this.codes(manager).delete({ userId });
    await this.codes(manager).insert(
      codeHashes.map((codeHash) => ({ userId, codeHash, createdAt: now, usedAt: null })),
    );
  }

  /** Uses up an unused recovery code, atomically: of two parallel uses, one wins. */
  async useRecoveryCode(
    userId: string,
    codeHash: Buffer,
    now: Date,
    manager?: EntityManager,
  ): Promise<boolean> {
    const [, affected] = await this.manager(manager).query<[unknown[], number]>(
      `UPDATE recovery_codes SET used_at = $3 WHERE user_id = $1 AND code_hash = $2 AND used_at IS NULL`,
      [userId, codeHash, now],
    );
    return affected === 1;
  }

  unusedRecoveryCodes(userId: string, manager?: EntityManager): Promise<number> {
    return this.codes(manager).countBy({ userId, usedAt: IsNull() });
  }
}
