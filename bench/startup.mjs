// Start-up and idle memory, repeated: starts the built server on an empty PostgreSQL database
// once (migrations, key, first admin), then BENCH_STARTS (5) times on that existing database,
// and prints per start the wall time to ready, the server's CPU time at ready, and its memory
// 2 s later (RSS, and what /proc/<pid>/smaps_rollup splits it into).
//
//   npm run build && node bench/startup.mjs
//
// Settings: BENCH_PG_URL, BENCH_STARTS (5), BENCH_SKIP_EMPTY_REPEAT; STARTUP_ARGS (extra node
// arguments, space-separated, e.g. "--cpu-prof --cpu-prof-dir=/tmp/p"), STARTUP_SIGNAL (a signal
// sent to the server just before its memory is read, for a probe loaded through STARTUP_ARGS).

import { randomBytes } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  cpuSeconds,
  fixed,
  log,
  MAIN,
  memoryMiB,
  sleep,
  startServer,
  stopAll,
  table,
  withBenchDatabase,
} from './lib/server.mjs';

const STARTS = Number(process.env.BENCH_STARTS ?? 5);
const EXTRA = (process.env.STARTUP_ARGS ?? '').split(' ').filter(Boolean);

function rollup(pid) {
  try {
    const text = readFileSync(`/proc/${pid}/smaps_rollup`, 'utf8');
    const kib = (field) => Number(new RegExp(`^${field}:\\s+(\\d+) kB`, 'm').exec(text)?.[1]);
    return { anon: kib('Anonymous') / 1024, file: (kib('Rss') - kib('Anonymous')) / 1024 };
  } catch {
    return { anon: NaN, file: NaN };
  }
}

async function main() {
  const compileCache = mkdtempSync(join(tmpdir(), 'portcullis-startup-cache-'));
  const dataDir = mkdtempSync(join(tmpdir(), 'portcullis-startup-data-'));
  const encryptionKey = randomBytes(32).toString('base64');
  const rows = [];
  try {
    await withBenchDatabase(async (url) => {
      const env = {
        DATABASE_URL: url,
        DATA_DIR: dataDir,
        ENCRYPTION_KEY: encryptionKey,
        NODE_COMPILE_CACHE: compileCache,
      };
      const measure = async (label) => {
        const server = await startServer(label, env, [...EXTRA, MAIN]);
        const pid = server.child.pid;
        const cpu = cpuSeconds(pid);
        await sleep(2000);
        if (process.env.STARTUP_SIGNAL) {
          // For a probe loaded with STARTUP_ARGS="--import …" that reports on that signal.
          server.child.kill(process.env.STARTUP_SIGNAL);
          await sleep(300);
        }
        const { rss } = memoryMiB(pid);
        const { anon, file } = rollup(pid);
        const exit = await server.stop();
        rows.push([
          label,
          fixed(server.startupMs),
          fixed(cpu * 1000),
          fixed(rss),
          fixed(anon),
          fixed(file),
          exit.code,
        ]);
      };
      await measure('empty');
      for (let i = 1; i <= STARTS; i += 1) {
        await measure(`existing ${i}`);
      }
    });
  } finally {
    rmSync(compileCache, { recursive: true, force: true });
    rmSync(dataDir, { recursive: true, force: true });
  }
  process.stdout.write(
    `${table(['start', 'ready ms', 'CPU ms at ready', 'RSS MiB', 'anon MiB', 'file MiB', 'exit'], rows)}\n`,
  );
}

process.on('SIGINT', () => {
  stopAll();
  process.exit(130);
});
main().catch((error) => {
  log(String(error?.stack ?? error));
  stopAll();
  process.exit(1);
});
