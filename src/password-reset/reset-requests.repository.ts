import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource, type EntityManager } from 'typeorm';
import { ResetRequestEntity } from './reset-request.entity.js';

/** A queued request a worker has claimed. */
export interface ClaimedRequest {
  id: string;
  identifier: string;
  client_ip: string | null;
  attempts: number;
}

/** The reset requests waiting for the worker (generic disclosure). */
@Injectable()
export class ResetRequestsRepository {
  constructor(@InjectDataSource() private readonly dataSource: DataSource) {}

  async insert(request: ResetRequestEntity): Promise<void> {
    await this.dataSource.getRepository(ResetRequestEntity).insert(request);
  }

  /**
   * Claims up to `limit` due requests for this worker: each counts an attempt and is not due
   * again until `leaseUntil` (so a crashed worker's request is retried). FOR UPDATE SKIP LOCKED:
   * two instances never claim the same request.
   */
  async claimDueRequests(now: Date, leaseUntil: Date, limit: number): Promise<ClaimedRequest[]> {
    const [rows] = await this.dataSource.query<[ClaimedRequest[], number]>(
      `UPDATE password_reset_requests SET attempts = attempts + 1, due_at = $2
        WHERE id IN (
          SELECT id FROM password_reset_requests
           WHERE due_at <= $1
           ORDER BY due_at
           LIMIT ${limit}
           FOR UPDATE SKIP LOCKED)
        RETURNING id, identifier, client_ip, attempts`,
      [now, leaseUntil],
    );
    return rows;
  }

  /** The request was acted on (or given up): pass the manager of the transaction that acted. */
  async delete(id: string, manager?: EntityManager): Promise<void> {
    await (manager ?? this.dataSource.manager).query(
      'DELETE FROM password_reset_requests WHERE id = $1',
      [id],
    );
  }
}
