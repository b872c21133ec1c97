import { Clock } from '../../src/common/clock.js';

/**
 * A clock the test moves by hand: expiry is tested without sleeping. It follows real time unless
 * frozen, when only `advance` moves it (nothing cached expires while a test looks away).
 */
export class TestClock extends Clock {
  private offsetMs = 0;
  private frozenAtMs: number | undefined;

  override now(): Date {
    return new Date(this.frozenAtMs ?? Date.now() + this.offsetMs);
  }

  advance(seconds: number): void {
    if (this.frozenAtMs === undefined) {
      this.offsetMs += seconds * 1000;
    } else {
      this.frozenAtMs += seconds * 1000;
    }
  }

  /** Stops at the present moment; `advance` still moves it. */
  freeze(): void {
    this.frozenAtMs ??= Date.now() + this.offsetMs;
  }

  /** Follows real time again, from where it stood. */
  unfreeze(): void {
    if (this.frozenAtMs !== undefined) {
      this.offsetMs = this.frozenAtMs - Date.now();
      this.frozenAtMs = undefined;
    }
  }
}
