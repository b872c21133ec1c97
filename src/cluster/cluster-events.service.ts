import {
  Injectable,
  Logger,
  type OnApplicationBootstrap,
  type OnModuleDestroy,
} from '@nestjs/common';
import { ConfigService } from '@nestjs/config';
import pg from 'pg';
import type { EntityManager } from 'typeorm';
import type { Settings } from '../config/settings.js';

/** The PostgreSQL channel every instance listens on. */
export const CLUSTER_CHANNEL = 'portcullis_cluster';
/** How long to wait before listening again after the connection was lost. */
const RECONNECT_DELAY_MS = 1_000;
/**
 * The longest an instance answers from what it cached of state another instance may change (a
 * session's liveness, a user's state). Notifications make a change reach every instance within
 * milliseconds; this lifetime, under the second the contract promises, keeps the promise when a
 * notification never arrives (a listening connection that died without a word).
 */
export const SHARED_STATE_CACHE_TTL_MS = 750;
/**
 * How often the listening connection must answer a query, and how long it may take: a connection
 * that a network or proxy dropped silently would otherwise count as listening until the kernel's
 * keepalive gives up on it (hours), and key rotations by other instances would go unheard.
 */
const PROBE_INTERVAL_MS = 5_000;
const PROBE_TIMEOUT_MS = 2_000;
/** Session ids per notification: PostgreSQL limits a payload to 8000 bytes. */
const IDS_PER_NOTIFICATION = 100;

/** What one instance tells the others; each makes them drop what they cached about it. */
export type ClusterEvent =
  | { kind: 'sessions_revoked'; ids: string[] }
  | { kind: 'user_changed'; userId: string }
  | { kind: 'signing_keys_changed' };

type Handlers = {
  [K in ClusterEvent['kind']]: ((event: Extract<ClusterEvent, { kind: K }>) => void)[];
};

/**
 * Tells every instance sharing the database what changed, so that caches in each (session
 * liveness, user state, signing keys) follow a change made by any of them within a second.
 *
 * Events are published with `pg_notify` in the transaction that makes the change, so they are
 * delivered when (and only if) it commits. Each instance keeps one connection that LISTENs; when
 * it is lost, every subscriber drops its whole cache (`onResync`) and stops caching (`hearing` is
 * false) until the instance listens again, when they drop it once more: notifications sent
 * meanwhile are gone. With the embedded database there is only ever one instance: nothing to
 * listen to, and local changes update local caches directly.
 */
@Injectable()
export class ClusterEvents implements OnApplicationBootstrap, OnModuleDestroy {
  private readonly logger = new Logger('ClusterEvents');
  private readonly url: string | undefined;
  private readonly handlers: Handlers = {
    sessions_revoked: [],
    user_changed: [],
    signing_keys_changed: [],
  };
  private readonly resyncHandlers: (() => void)[] = [];
  private client?: pg.Client;
  private reconnectTimer?: NodeJS.Timeout;
  private probeTimer?: NodeJS.Timeout;
  private probing = false;
  private stopped = false;
  /** Said once per outage, not at every reconnection attempt. */
  private warned = false;

  constructor(config: ConfigService<Settings, true>) {
    this.url = config.get('database', { infer: true }).url;
  }

  on<K extends ClusterEvent['kind']>(
    kind: K,
    handler: (event: Extract<ClusterEvent, { kind: K }>) => void,
  ): void {
    (this.handlers[kind] as ((event: Extract<ClusterEvent, { kind: K }>) => void)[]).push(handler);
  }

  /** `handler` drops everything it cached: notifications may have been missed. */
  onResync(handler: () => void): void {
    this.resyncHandlers.push(handler);
  }

  /** Publishes `event` when `manager`'s transaction commits (at once outside a transaction). */
  async publish(manager: EntityManager, event: ClusterEvent): Promise<void> {
    if (!this.url) {
      return;
    }
    const payloads =
      event.kind === 'sessions_revoked'
        ? chunk(event.ids, IDS_PER_NOTIFICATION).map((ids) => ({ ...event, ids }))
        : [event];
    for (const payload of payloads) {
      await manager.query('SELECT pg_notify($1, $2)', [CLUSTER_CHANNEL, JSON.stringify(payload)]);
    }
  }

  async onApplicationBootstrap(): Promise<void> {
    if (this.url) {
      await this.listen();
      this.probeTimer = setInterval(() => void this.probe(), PROBE_INTERVAL_MS);
      this.probeTimer.unref();
    }
  }

  async onModuleDestroy(): Promise<void> {
    this.stopped = true;
    clearTimeout(this.reconnectTimer);
    clearInterval(this.probeTimer);
    const client = this.client;
    this.client = undefined;
    await client?.end().catch(() => undefined);
  }

  /** Whether this instance is listening now (for readiness and tests). */
  get listening(): boolean {
    return this.client !== undefined;
  }

  /**
   * Whether this instance hears every change the others make: it listens, or there are no others
   * (the embedded database). While it does not, caches must not answer: a change made meanwhile
   * would go unheard for as long as they keep an entry, longer than the second promised.
   */
  get hearing(): boolean {
    return !this.url || this.client !== undefined;
  }

  private async listen(): Promise<void> {
    const client = new pg.Client({
      connectionString: this.url,
      application_name: 'portcullis-cluster-events',
      connectionTimeoutMillis: 5_000,
      // Its only queries are LISTEN and the probe: none has a reason to take longer.
      query_timeout: PROBE_TIMEOUT_MS,
      keepAlive: true,
    });
    client.on('notification', (message) => this.deliver(message.payload));
    client.on('error', (error) => this.lost(client, error));
    client.on('end', () => this.lost(client));
    try {
      await client.connect();
      await client.query(`LISTEN ${CLUSTER_CHANNEL}`);
    } catch (error) {
      this.lost(client, error);
      return;
    }
    if (this.stopped) {
      await client.end().catch(() => undefined);
      return;
    }
    this.client = client;
    if (this.warned) {
      this.logger.log("listening for other instances' changes again");
      this.warned = false;
    }
    // Whatever happened while nobody listened is unknown: every cache starts afresh.
    this.resync();
  }

  /** The listening connection answers within PROBE_TIMEOUT_MS, or counts as lost. */
  private async probe(): Promise<void> {
    const client = this.client;
    if (!client || this.probing) {
      return;
    }
    this.probing = true;
    try {
      await client.query('SELECT 1');
    } catch (error) {
      this.lost(client, error);
    } finally {
      this.probing = false;
    }
  }

  private resync(): void {
    for (const handler of this.resyncHandlers) {
      handler();
    }
  }

  private lost(client: pg.Client, error?: unknown): void {
    if (this.client === client) {
      this.client = undefined;
      // What was cached may already miss a change: nothing cached is used until listening again.
      this.resync();
    }
    client.removeAllListeners('end');
    client.removeAllListeners('error');
    client.on('error', () => undefined);
    void client.end().catch(() => undefined);
    if (this.stopped || this.reconnectTimer) {
      return;
    }
    if (!this.warned) {
      this.warned = true;
      const reason = error instanceof Error ? ` (${error.message})` : '';
      this.logger.warn(
        `lost the connection that listens for other instances' changes${reason}; ` +
          `retrying every ${RECONNECT_DELAY_MS / 1000} s`,
      );
    }
    this.reconnectTimer = setTimeout(() => {
      this.reconnectTimer = undefined;
      void this.listen();
    }, RECONNECT_DELAY_MS);
    this.reconnectTimer.unref();
  }

  private deliver(payload: string | undefined): void {
    let event: ClusterEvent;
    try {
      event = JSON.parse(payload ?? '') as ClusterEvent;
    } catch {
      this.logger.warn('ignored a cluster notification that is not JSON');
      return;
    }
    const handlers = this.handlers[event.kind] as ((e: ClusterEvent) => void)[] | undefined;
    for (const handler of handlers ?? []) {
      try {
        handler(event);
      } catch (error) {
        this.logger.error(
          `a ${event.kind} handler failed: ${error instanceof Error ? error.message : String(error)}`,
        );
      }
    }
  }
}

function chunk<T>(items: T[], size: number): T[][] {
  const chunks: T[][] = [];
  for (let i = 0; i < items.length; i += size) {
    chunks.push(items.slice(i, i + size));
  }
  return chunks;
}
