import { describe, expect, it } from '@jest/globals';
import {
  IDLE_BELOW,
  MemoryTrimmer,
  type MemoryProbe,
  processMemory,
  TICK_MS,
  WORTH_TRIMMING_BYTES,
} from './memory-trimmer.js';

const MIB = 1024 * 1024;

/** A process whose busyness and memory the test sets; a collection drops memory to `afterTrim`. */
class FakeProcess implements MemoryProbe {
  busy = 0;
  resident = 100 * MIB;
  afterTrim = 100 * MIB;
  collections = 0;
  busySinceLastCall(): number {
    return this.busy;
  }
  residentBytes(): number {
    return this.resident;
  }
  collectEverything(): void {
    this.collections += 1;
    this.resident = this.afterTrim;
  }
}

/** Ticks `n` times and returns how many of them trimmed. */
function ticks(trimmer: MemoryTrimmer, n: number): number {
  let trims = 0;
  for (let i = 0; i < n; i += 1) {
    trims += trimmer.tick() ? 1 : 0;
  }
  return trims;
}

describe('MemoryTrimmer', () => {
  const idleMs = 2 * TICK_MS;

  it('trims once after start-up, as soon as the loop has been idle for idleMs', () => {
    const proc = new FakeProcess();
    proc.afterTrim = 60 * MIB;
    const trimmer = new MemoryTrimmer(proc, idleMs);
    expect(trimmer.tick()).toBeUndefined();
    expect(trimmer.tick()).toEqual({
      beforeBytes: 100 * MIB,
      afterBytes: 60 * MIB,
      ms: expect.any(Number),
    });
    expect(ticks(trimmer, 20)).toBe(0);
    expect(proc.collections).toBe(1);
  });

  it('never trims while the loop is busy, however much memory grew', () => {
    const proc = new FakeProcess();
    const trimmer = new MemoryTrimmer(proc, idleMs);
    ticks(trimmer, 2);
    proc.busy = IDLE_BELOW;
    proc.resident = 400 * MIB;
    expect(ticks(trimmer, 50)).toBe(0);
    // A busy tick between idle ones starts the count again.
    proc.busy = 0;
    expect(trimmer.tick()).toBeUndefined();
    proc.busy = 0.5;
    expect(trimmer.tick()).toBeUndefined();
    proc.busy = 0;
    expect(trimmer.tick()).toBeUndefined();
    expect(trimmer.tick()).toBeDefined();
  });

  it('trims after a burst only when memory grew by WORTH_TRIMMING_BYTES since the last trim', () => {
    const proc = new FakeProcess();
    const trimmer = new MemoryTrimmer(proc, idleMs);
    ticks(trimmer, 2); // the start-up trim: 100 MiB stays 100 MiB
    proc.busy = 0.9;
    proc.resident = 100 * MIB + WORTH_TRIMMING_BYTES - 1;
    ticks(trimmer, 3);
    proc.busy = 0;
    expect(ticks(trimmer, 10)).toBe(0);
    proc.busy = 0.9;
    proc.resident = 100 * MIB + WORTH_TRIMMING_BYTES;
    ticks(trimmer, 3);
    proc.busy = 0;
    expect(ticks(trimmer, 10)).toBe(1);
    expect(proc.collections).toBe(2);
  });

  it('does not retry memory a trim could not give back', () => {
    const proc = new FakeProcess();
    const trimmer = new MemoryTrimmer(proc, idleMs);
    ticks(trimmer, 2);
    proc.resident = 200 * MIB;
    proc.afterTrim = 200 * MIB; // e.g. malloc's arenas, which a collection does not shrink
    expect(ticks(trimmer, 2)).toBe(1);
    expect(ticks(trimmer, 50)).toBe(0);
  });
});

describe('processMemory', () => {
  it('hands back memory V8 freed but kept, without --expose-gc and without a global gc', () => {
    expect((globalThis as { gc?: unknown }).gc).toBeUndefined();
    const probe = processMemory();
    // Objects that are garbage as soon as the function returns, after V8 has grown its heap.
    const made = ((n: number) => Array.from({ length: n }, (_, i) => ({ i })).length)(1_500_000);
    expect(made).toBe(1_500_000);
    const grown = probe.residentBytes();
    probe.collectEverything();
    expect(probe.residentBytes()).toBeLessThan(grown - 32 * MIB);
    expect((globalThis as { gc?: unknown }).gc).toBeUndefined();
    const busy = probe.busySinceLastCall();
    expect(busy).toBeGreaterThanOrEqual(0);
    expect(busy).toBeLessThanOrEqual(1);
  });
});
