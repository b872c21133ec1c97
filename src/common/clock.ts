import { Injectable } from '@nestjs/common';

/**
 * The one source of "now". Tests replace it to move time without sleeping, so every expiry
 * (tokens, throttles, reset links) must read it instead of Date.now().
 */
@Injectable()
export class Clock {
  now(): Date {
    return new Date();
  }

  nowSeconds(): number {
    return Math.floor(this.now().getTime() / 1000);
  }
}
