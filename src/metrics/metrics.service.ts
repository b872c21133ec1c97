import { Injectable } from '@nestjs/common';

/** One series of a histogram. */
interface Observer {
  observe(value: number): void;
}
import { collectDefaultMetrics, Counter, Histogram, Registry } from 'prom-client';

/** Prometheus metrics: the process's own, and one histogram of HTTP requests by route. */
@Injectable()
export class MetricsService {
  readonly registry = new Registry();
  private readonly requests = new Histogram({
    name: 'portcullis_http_request_duration_seconds',
    help: 'HTTP requests by method, route template and status',
    labelNames: ['method', 'route', 'status'] as const,
    buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5],
    registers: [this.registry],
  });
  readonly mailsSent = new Counter({
    name: 'portcullis_mails_total',
    help: 'Mails handed to the transport, by outcome (sent, retry, dead)',
    labelNames: ['outcome'] as const,
    registers: [this.registry],
  });

  constructor() {
    collectDefaultMetrics({ register: this.registry, prefix: 'portcullis_' });
  }

  /** The histogram's series by `method route status`: prom-client hashes a label set per call. */
  private readonly series = new Map<string, Observer>();

  observeRequest(method: string, route: string, status: number, seconds: number): void {
    const key = `${method} ${route} ${status}`;
    let series = this.series.get(key);
    if (!series) {
      // Bounded: route templates (not URLs), methods and statuses are few.
      series = this.requests.labels({ method, route, status: String(status) });
      this.series.set(key, series);
    }
    series.observe(seconds);
  }

  render(): Promise<string> {
    return this.registry.metrics();
  }
}
