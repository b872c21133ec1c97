import { performance, type EventLoopUtilization } from 'node:perf_hooks';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';

/** How often the trimmer looks at the event loop. */
export const TICK_MS = 500;
/** The event loop counts as idle while it was busy less than this share of a tick. */
export const IDLE_BELOW = 0.05;
/** Growth of resident memory, since start or since the last trim, worth a trim. */
export const WORTH_TRIMMING_BYTES = 16 * 1024 * 1024;

/** What the trimmer reads and does: the process's own (`processMemory`), or fakes in tests. */
export interface MemoryProbe {
  /** The share (0–1) of the time since the previous call that the event loop was busy. */
  busySinceLastCall(): number;
  residentBytes(): number;
  /** A full collection that also hands V8's pooled pages back to the system; blocks. */
  collectEverything(): void;
}

export interface TrimResult {
  beforeBytes: number;
  afterBytes: number;
  ms: number;
}

/**
 * Gives memory back to the system once the process has gone quiet after a burst.
 *
 * Under load V8 grows its old generation, then frees it in a major collection, but keeps the
 * freed pages in a pool for reuse; only a collection under memory pressure (the "last resort")
 * returns them. So after a burst of a few seconds the process stays at about twice its idle
 * size until something else on the machine needs the memory (bench/README.md, "Memory after
 * the load"). When the event loop has been idle for `idleMs` and resident memory grew by at
 * least WORTH_TRIMMING_BYTES since the last trim, `tick` runs that collection once: tens to a
 * hundred and fifty milliseconds of one idle thread, against a container that is sized for
 * its idle footprint instead of its peak. Memory that is not V8's (argon2's buffers in malloc's
 * arenas) is not touched, and is not retried: the next trim needs new growth.
 */
export class MemoryTrimmer {
  private idleTicks = 0;
  /** Resident memory after the last trim; 0 until the first, so the start-up's garbage goes too. */
  private baseline = 0;

  constructor(
    private readonly probe: MemoryProbe,
    private readonly idleMs: number,
  ) {}

  /** Call every TICK_MS. Returns what a trim did, or undefined when it did not trim. */
  tick(): TrimResult | undefined {
    if (this.probe.busySinceLastCall() >= IDLE_BELOW) {
      this.idleTicks = 0;
      return undefined;
    }
    this.idleTicks += 1;
    if (this.idleTicks * TICK_MS < this.idleMs) {
      return undefined;
    }
    const beforeBytes = this.probe.residentBytes();
    if (beforeBytes - this.baseline < WORTH_TRIMMING_BYTES) {
      return undefined;
    }
    const started = performance.now();
    this.probe.collectEverything();
    const ms = performance.now() - started;
    const afterBytes = this.probe.residentBytes();
    this.baseline = afterBytes;
    // The collection itself kept the loop busy: the next tick must not count as idle because
    // of it, nor as busy; it starts the idle count again.
    this.probe.busySinceLastCall();
    this.idleTicks = 0;
    return { beforeBytes, afterBytes, ms };
  }
}

type GcFunction = (options: { type: 'major'; execution: 'sync'; flavor: 'last-resort' }) => void;

/**
 * V8's `gc` without `--expose-gc` on the command line: the flag is set just long enough to make
 * one new context, whose global `gc` is kept, and unset again, so nothing else gets a `gc`.
 */
function lastResortCollector(): () => void {
  let gc = (globalThis as { gc?: GcFunction }).gc;
  if (typeof gc !== 'function') {
    setFlagsFromString('--expose-gc');
    try {
      gc = runInNewContext('gc') as GcFunction;
    } finally {
      setFlagsFromString('--no-expose-gc');
    }
  }
  const collect = gc;
  return () => collect({ type: 'major', execution: 'sync', flavor: 'last-resort' });
}

/** The probe of this process. */
export function processMemory(): MemoryProbe {
  let last: EventLoopUtilization = performance.eventLoopUtilization();
  const collect = lastResortCollector();
  return {
    busySinceLastCall() {
      const now = performance.eventLoopUtilization();
      const busy = performance.eventLoopUtilization(now, last).utilization;
      last = now;
      return busy;
    },
    residentBytes: () => process.memoryUsage.rss(),
    collectEverything: collect,
  };
}
