import { Clock } from '../../src/common/clock.js';

/** A clock the test moves by hand: expiry is tested without sleeping. */
export class TestClock extends Clock {
  private offsetMs = 0;

  override now(): Date {
    return new Date(Date.now() + this.offsetMs);
  }

  advance(seconds: number): void {
    this.offsetMs += seconds * 1000;
  }
}
