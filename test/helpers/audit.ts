import { expect } from '@jest/globals';
import type { Response } from 'supertest';
import { bearer, type Json } from './factories.js';
import type { TestApp } from './test-app.js';

/** An audit event as GET /api/v1/admin/audit-events lists it. */
export interface AuditEvent {
  type: string;
  actorId: string | null;
  subjectId: string | null;
  flowId: string | null;
  details: Json;
}

/** GET /api/v1/admin/audit-events with this query, as an admin; the answer must be 200. */
export async function queryAuditEvents(
  t: TestApp,
  adminToken: string,
  query: Record<string, string | number>,
): Promise<Response> {
  const res = await t
    .http()
    .get('/api/v1/admin/audit-events')
    .query(query)
    .set(...bearer(adminToken));
  expect(res.status).toBe(200);
  return res;
}

/**
 * Up to 100 audit events about one user, newest first, as an admin reads them: the events and
 * the whole answer body they came in.
 */
export async function auditEvents(
  t: TestApp,
  adminToken: string,
  userId: string,
): Promise<{ items: AuditEvent[]; body: Json }> {
  const res = await queryAuditEvents(t, adminToken, { userId, pageSize: 100 });
  return { items: res.body.items as AuditEvent[], body: res.body as Json };
}
