// What share of the bare Fastify ceiling a route can reach when it does some work of its own:
// a bare Fastify server whose one route spins for N µs of CPU before answering, loaded like the
// HTTP rows of run.mjs (autocannon, BENCH_CONNECTIONS connections, BENCH_DURATION s). It tells
// how much CPU per request a target like "≥ 30 % of bare Fastify" leaves to the service on this
// machine, where the load generator shares the cores with the server.
//
//   node bench/ceiling-curve.mjs
//
// Settings: BENCH_DURATION (5), BENCH_CONNECTIONS (50), BENCH_SPIN_US (0,10,20,30,50,100,200).

import { cpus, loadavg } from 'node:os';
import autocannon from 'autocannon';
import { cpuSeconds, fixed, log, startServer, stopAll, table } from './lib/server.mjs';

const DURATION = Number(process.env.BENCH_DURATION ?? 5);
const CONNECTIONS = Number(process.env.BENCH_CONNECTIONS ?? 50);
const SPINS = (process.env.BENCH_SPIN_US ?? '0,10,20,30,50,100,200').split(',').map(Number);

const SPINNING_FASTIFY = `
import Fastify from 'fastify';
const app = Fastify({ logger: false });
const spinMs = Number(process.env.SPIN_US) / 1000;
app.get('/health/ready', async () => ({ status: 'ok' }));
app.get('/hello', async () => {
  const start = performance.now();
  while (performance.now() - start < spinMs) {
    // the route's own work
  }
  return { hello: 'world' };
});
await app.listen({ port: Number(process.env.PORT), host: '127.0.0.1' });
process.on('SIGTERM', () => app.close().then(() => process.exit(0)));
`;

async function measure(spinUs) {
  const server = await startServer(`spin ${spinUs} µs`, { SPIN_US: String(spinUs) }, [
    '--input-type=module',
    '-e',
    SPINNING_FASTIFY,
  ]);
  try {
    const url = `${server.base}/hello`;
    await autocannon({ url, connections: CONNECTIONS, amount: 20_000 });
    const before = cpuSeconds(server.child.pid);
    const result = await autocannon({ url, connections: CONNECTIONS, duration: DURATION });
    const requests = result.requests.total;
    return {
      spinUs,
      perSecond: requests / result.duration,
      cpuMs: ((cpuSeconds(server.child.pid) - before) / requests) * 1000,
    };
  } finally {
    await server.stop();
  }
}

async function main() {
  const load = loadavg()[0];
  const rows = [];
  for (const spin of SPINS) {
    rows.push(await measure(spin));
  }
  const ceiling = rows.find((r) => r.spinUs === 0)?.perSecond ?? NaN;
  process.stdout.write(
    [
      `Bare Fastify with N µs of work per request, node ${process.version}, ${cpus().length} cores, ` +
        `load average at start ${load.toFixed(2)}, at end ${loadavg()[0].toFixed(2)}; ` +
        `${DURATION} s per row, ${CONNECTIONS} connections`,
      '',
      table(
        ['work per request', 'req/s', 'share of the 0 µs row', 'server CPU ms/req'],
        rows.map((r) => [
          `${r.spinUs} µs`,
          fixed(r.perSecond),
          `${fixed((r.perSecond / ceiling) * 100, 1)} %`,
          fixed(r.cpuMs, 3),
        ]),
      ),
      '',
    ].join('\n'),
  );
}

main().catch((error) => {
  log(`failed: ${error instanceof Error ? error.stack : error}`);
  stopAll();
  process.exit(1);
});
