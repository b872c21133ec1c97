import { spawn, spawnSync } from 'node:child_process';
import {
  cpSync,
  existsSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { type ServiceProcess, startService } from './helpers/service-process.js';

/**
 * The guides cannot drift from the code: docs/getting-started.md is run against the built service
 * as a reader would run it, and the other guides are checked against the code's own lists (every
 * setting, every audit event type) and for links that lead nowhere. The conventions the
 * getting-started guide follows are stated at its top.
 */

const GUIDE = 'docs/getting-started.md';
const INTEGRATING = 'docs/integrating.md';
/** The base URL the guide's expected outputs show; it stands for the started service's. */
const GUIDE_BASE_URL = 'http://localhost:3000';
/** The variables the guide's `docs-test: environment` block sets, which the test sets itself. */
const ENVIRONMENT = ['PORTCULLIS', 'ADMIN_PASSWORD', 'MAILDIR'];

type Marker = 'skip' | 'environment' | 'any order' | 'not checked';

interface Block {
  /** The fence's info string: `sh`, `json`, `text` … */
  lang: string;
  /** 1-based line of the opening fence in the guide. */
  line: number;
  code: string;
  marker: Marker | null;
  /** Only blank lines between the previous block's closing fence and this one's opening. */
  followsDirectly: boolean;
}

/** The fenced blocks of a Markdown file, with the `<!-- docs-test: … -->` marker right above each. */
function fencedBlocks(file: string): Block[] {
  const lines = readFileSync(file, 'utf8').split('\n');
  const blocks: Block[] = [];
  let lastClose = -2;
  for (let i = 0; i < lines.length; i++) {
    const open = /^```(\S*)\s*$/.exec(lines[i]);
    if (!open) {
      continue;
    }
    const end = lines.findIndex((l, j) => j > i && /^```\s*$/.test(l));
    if (end < 0) {
      throw new Error(`${file}:${i + 1}: a code block is never closed`);
    }
    let above = i - 1;
    while (above >= 0 && lines[above].trim() === '') {
      above--;
    }
    const marker = /^<!-- docs-test: (skip|environment|any order|not checked)\b.*-->$/.exec(
      lines[above]?.trim() ?? '',
    );
    // A marker belongs to the block below it: look past it for what came before.
    let before = marker ? above - 1 : above;
    while (marker && before >= 0 && lines[before].trim() === '') {
      before--;
    }
    blocks.push({
      lang: open[1],
      line: i + 1,
      code: lines.slice(i + 1, end).join('\n'),
      marker: (marker?.[1] as Marker | undefined) ?? null,
      followsDirectly: before === lastClose,
    });
    lastClose = end;
    i = end;
  }
  return blocks;
}

const isRun = (block: Block) =>
  block.lang === 'sh' && block.marker !== 'skip' && block.marker !== 'environment';
const isOutput = (block: Block) => block.lang === 'json' || block.lang === 'text';

/**
 * Values that differ on every run match any value of the same kind; they can therefore be shown
 * in the guide as a reader would see them.
 */
const KINDS: [string, RegExp][] = [
  ['a UUID', /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/],
  ['a time', /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/],
  ['a random token', /^[A-Za-z0-9_-]{43}$/],
  ['a base32 secret', /^[A-Z2-7]{32}$/],
  ['a recovery code', /^[a-z0-9]{4}-[a-z0-9]{4}-[a-z0-9]{4}-[a-z0-9]{4}$/],
];

/** `…` in an expected string or line stands for any text. */
function pattern(expected: string): RegExp {
  const parts = expected.split('…').map((p) => p.replace(/[.*+?^${}()|[\]\\]/g, '\\$&'));
  return new RegExp(`^${parts.join('[\\s\\S]*')}$`);
}

function stringMatches(expected: string, actual: string): boolean {
  if (expected.includes('…')) {
    return pattern(expected).test(actual);
  }
  const kind = KINDS.find(([, re]) => re.test(expected));
  return kind ? kind[1].test(actual) : expected === actual;
}

/** Where `actual` differs from `expected`: every field shown, no field more, the same values. */
function jsonDifferences(expected: unknown, actual: unknown, path = '$'): string[] {
  if (typeof expected === 'string') {
    return typeof actual === 'string' && stringMatches(expected, actual)
      ? []
      : [`${path}: expected ${JSON.stringify(expected)}, got ${JSON.stringify(actual)}`];
  }
  if (typeof expected === 'number' && Number.isInteger(expected) && expected >= 1e9) {
    // Seconds since the epoch (`exp`, `iat`): any such time.
    return typeof actual === 'number' && actual >= 1e9
      ? []
      : [`${path}: expected a time in seconds, got ${JSON.stringify(actual)}`];
  }
  if (Array.isArray(expected)) {
    if (!Array.isArray(actual) || actual.length !== expected.length) {
      return [`${path}: expected ${expected.length} items, got ${JSON.stringify(actual)}`];
    }
    return expected.flatMap((e, i) => jsonDifferences(e, actual[i], `${path}[${i}]`));
  }
  if (expected !== null && typeof expected === 'object') {
    if (actual === null || typeof actual !== 'object' || Array.isArray(actual)) {
      return [`${path}: expected an object, got ${JSON.stringify(actual)}`];
    }
    const e = expected as Record<string, unknown>;
    const a = actual as Record<string, unknown>;
    return [
      ...Object.keys(a)
        .filter((k) => !(k in e))
        .map((k) => `${path}.${k}: not in the guide, got ${JSON.stringify(a[k])}`),
      ...Object.keys(e).flatMap((k) =>
        k in a ? jsonDifferences(e[k], a[k], `${path}.${k}`) : [`${path}.${k}: missing`],
      ),
    ];
  }
  return expected === actual
    ? []
    : [`${path}: expected ${JSON.stringify(expected)}, got ${JSON.stringify(actual)}`];
}

/** The JSON documents printed one after another (pretty or not); throws on anything else. */
function jsonDocuments(text: string): unknown[] {
  const documents: unknown[] = [];
  let i = 0;
  while (i < text.length) {
    if (/\s/.test(text[i])) {
      i++;
      continue;
    }
    let depth = 0;
    let inString = false;
    let j = i;
    for (; j < text.length; j++) {
      const c = text[j];
      if (inString) {
        if (c === '\\') {
          j++;
        } else if (c === '"') {
          inString = false;
        }
      } else if (c === '"') {
        inString = true;
      } else if (c === '{' || c === '[') {
        depth++;
      } else if (c === '}' || c === ']') {
        depth--;
      } else if (depth === 0 && /\s/.test(c)) {
        break;
      }
      if (depth === 0 && !inString && (c === '}' || c === ']')) {
        j++;
        break;
      }
    }
    documents.push(JSON.parse(text.slice(i, j)));
    i = j;
  }
  return documents;
}

const outputLines = (text: string) =>
  text
    .split('\n')
    .map((l) => l.trimEnd())
    .filter((l) => l !== '');

/** Why a block's output is not what the guide shows after it, or [] when it is. */
function outputDifferences(expected: Block, actual: string): string[] {
  const shown = expected.code.replaceAll(GUIDE_BASE_URL, service.url);
  if (expected.lang === 'json') {
    let documents: unknown[];
    try {
      documents = jsonDocuments(actual);
    } catch {
      return ['the block did not print JSON'];
    }
    const wanted = jsonDocuments(shown);
    if (documents.length !== wanted.length) {
      return [`expected ${wanted.length} JSON document(s), got ${documents.length}`];
    }
    return wanted.flatMap((w, i) => jsonDifferences(w, documents[i]));
  }
  const want = outputLines(shown);
  const got = outputLines(actual);
  if (expected.marker === 'any order') {
    const left = [...got];
    const missing = want.filter((w) => {
      const k = left.findIndex((g) => pattern(w).test(g));
      return k < 0 || left.splice(k, 1).length === 0;
    });
    return [
      ...missing.map((m) => `missing line: ${m}`),
      ...left.map((l) => `line not in the guide: ${l}`),
    ];
  }
  const problems = want.flatMap((w, k) =>
    k < got.length && pattern(w).test(got[k])
      ? []
      : [`line ${k + 1}: expected ${w}, got ${got[k] ?? '(nothing)'}`],
  );
  return got.length > want.length
    ? [...problems, ...got.slice(want.length).map((l) => `line not in the guide: ${l}`)]
    : problems;
}

let service: ServiceProcess;

describe(`${GUIDE}, run as a reader runs it`, () => {
  const blocks = fencedBlocks(GUIDE);
  const runs = blocks.filter(isRun);
  const expectations = new Map<Block, Block>();
  blocks.forEach((block, i) => {
    const next = blocks[i + 1];
    if (isRun(block) && next && isOutput(next) && next.followsDirectly) {
      expectations.set(block, next);
    }
  });
  const outputs = new Map<Block, string>();
  let workDir: string;
  let adminPassword: string;
  let exitCode: number | null;
  let failedBlock: Block | undefined;
  let transcript = '';

  beforeAll(async () => {
    workDir = mkdtempSync(join(tmpdir(), 'portcullis-docs-'));
    // Mails are files in $DATA_DIR/mail (no SMTP_URL), read by the guide as a reader reads them.
    const dataDir = join(workDir, 'data');
    const template = process.env.PORTCULLIS_PGLITE_TEMPLATE;
    if (template && !process.env.PORTCULLIS_TEST_DB_ADMIN) {
      cpSync(template, join(dataDir, 'pgdata'), { recursive: true });
    }
    service = await startService({ DATA_DIR: dataDir });
    // The first start's box, as the reader sees it.
    const printed = /│ {3}password: (\S+)/.exec(service.stdout())?.[1];
    if (!printed) {
      throw new Error(`no generated admin password in the output:\n${service.stdout()}`);
    }
    adminPassword = printed;
    const mark = (i: number, what: 'start' | 'end') => `@@docs-test block ${i} ${what}@@`;
    const script = [
      'set -euo pipefail',
      'exec 2>&1',
      ...runs.flatMap((block, i) => [
        `printf '\\n%s\\n' '${mark(i, 'start')}'`,
        block.code,
        `printf '\\n%s\\n' '${mark(i, 'end')}'`,
      ]),
    ].join('\n');
    const bash = spawn('bash', ['-c', script], {
      cwd: workDir,
      env: {
        PATH: process.env.PATH,
        HOME: process.env.HOME,
        LANG: 'C.UTF-8',
        PORTCULLIS: service.url,
        ADMIN_PASSWORD: adminPassword,
        MAILDIR: join(dataDir, 'mail'),
      },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    bash.stdout.on('data', (chunk: Buffer) => (transcript += chunk.toString('utf8')));
    bash.stderr.on('data', (chunk: Buffer) => (transcript += chunk.toString('utf8')));
    const timer = setTimeout(() => bash.kill('SIGKILL'), 240_000);
    exitCode = await new Promise<number | null>((done) => bash.on('exit', (code) => done(code)));
    clearTimeout(timer);
    runs.forEach((block, i) => {
      const start = transcript.indexOf(`${mark(i, 'start')}\n`);
      if (start < 0) {
        return;
      }
      const from = start + mark(i, 'start').length + 1;
      const end = transcript.indexOf(`\n${mark(i, 'end')}`, from);
      if (end < 0) {
        failedBlock = block;
        outputs.set(block, transcript.slice(from));
        return;
      }
      outputs.set(block, transcript.slice(from, end));
    });
  }, 330_000);

  afterAll(async () => {
    if (service && service.child.exitCode === null) {
      await service.stop();
    }
    rmSync(workDir, { recursive: true, force: true });
  });

  it('states what its environment block sets, which the test sets itself', () => {
    const environment = blocks.filter((b) => b.marker === 'environment');
    expect(environment).toHaveLength(1);
    const assigned = environment[0].code
      .split('\n')
      .map((l) => /^([A-Z_]+)=/.exec(l)?.[1])
      .filter(Boolean);
    expect(assigned).toEqual(ENVIRONMENT);
  });

  it('checks every output it shows: each follows a block that is run, or says why not', () => {
    const unchecked = blocks
      .filter((b) => isOutput(b) && b.marker !== 'not checked')
      .filter((b) => ![...expectations.values()].includes(b))
      .map((b) => `${GUIDE}:${b.line}`);
    expect(unchecked).toEqual([]);
    expect(runs.length).toBeGreaterThan(20);
  });

  it('runs every sh block, in order, without an error', () => {
    const where = failedBlock
      ? `the block at ${GUIDE}:${failedBlock.line} failed:\n${failedBlock.code}\n--- it printed:\n${outputs.get(failedBlock)}`
      : transcript.slice(-3000);
    expect(exitCode === 0 ? 'exit code 0' : `exit code ${exitCode}: ${where}`).toBe('exit code 0');
  });

  it.each(runs.filter((b) => expectations.has(b)).map((b) => [`${GUIDE}:${b.line}`, b] as const))(
    'the block at %s prints what the guide shows',
    (_where, block) => {
      const actual = outputs.get(block);
      const expected = expectations.get(block) as Block;
      const problems =
        actual === undefined ? ['it did not run'] : outputDifferences(expected, actual);
      expect({ problems, printed: actual }).toEqual({ problems: [], printed: actual });
    },
  );

  it(`has a token verifier in ${INTEGRATING} that accepts an access token and refuses others`, async () => {
    const verifier = fencedBlocks(INTEGRATING).find(
      (b) => b.lang === 'js' && b.code.includes("from 'node:crypto'"),
    );
    const file = join(workDir, 'verify-token.mjs');
    writeFileSync(file, verifier?.code ?? '');
    const login = await fetch(`${service.url}/api/v1/auth/login`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ username: 'admin', password: adminPassword }),
    });
    const tokens = (await login.json()) as { accessToken: string; refreshToken: string };
    const run = (token: string, issuer = service.url) => {
      const result = spawnSync(process.execPath, [file, token], {
        env: { PATH: process.env.PATH, PORTCULLIS: issuer },
        encoding: 'utf8',
      });
      return { status: result.status, out: result.stdout, error: result.stderr };
    };
    const accepted = run(tokens.accessToken);
    expect(accepted).toEqual({
      status: 0,
      out: expect.stringContaining("username: 'admin'"),
      error: '',
    });
    const [header, payload, signature] = tokens.accessToken.split('.');
    const hs256 = Buffer.from(
      JSON.stringify({ ...JSON.parse(Buffer.from(header, 'base64url').toString()), alg: 'HS256' }),
    ).toString('base64url');
    const flipped = `${signature[0] === 'A' ? 'B' : 'A'}${signature.slice(1)}`;
    const refusals = {
      'not a JWT': run(tokens.refreshToken),
      'not ES256': run(`${hs256}.${payload}.${signature}`),
      'bad signature': run(`${header}.${payload}.${flipped}`),
      'wrong issuer': run(tokens.accessToken, service.url.replace('127.0.0.1', 'localhost')),
    };
    for (const [reason, result] of Object.entries(refusals)) {
      expect({ reason, ...result }).toEqual({
        reason,
        status: 1,
        out: '',
        error: expect.stringContaining(`Error: ${reason}`),
      });
    }
  });
});

describe('the guides', () => {
  const root = resolve('.');
  const guides = [
    'README.md',
    ...readdirSync('docs')
      .filter((f) => f.endsWith('.md'))
      .map((f) => `docs/${f}`),
  ];

  /** GitHub's anchors for a file's headings. */
  function anchors(file: string): Set<string> {
    const seen = new Map<string, number>();
    const result = new Set<string>();
    const text = readFileSync(file, 'utf8').replace(/^```[\s\S]*?^```/gm, '');
    for (const [, heading] of text.matchAll(/^#{1,6} (.+)$/gm)) {
      const slug = heading
        .trim()
        .toLowerCase()
        .replace(/[^\p{L}\p{N}\s_-]/gu, '')
        .replace(/\s/g, '-');
      const n = seen.get(slug) ?? 0;
      seen.set(slug, n + 1);
      result.add(n === 0 ? slug : `${slug}-${n}`);
    }
    return result;
  }

  it('link only to files and headings that exist', () => {
    const broken: string[] = [];
    for (const file of guides) {
      const text = readFileSync(file, 'utf8')
        .replace(/^```[\s\S]*?^```/gm, '')
        .replace(/`[^`\n]*`/g, '');
      for (const [, target] of text.matchAll(/\]\(([^)\s]+)\)/g)) {
        if (/^[a-z]+:/.test(target)) {
          continue;
        }
        const [path, anchor] = target.split('#');
        const linked = path ? resolve(dirname(file), path) : resolve(file);
        if (!linked.startsWith(root) || !existsSync(linked)) {
          broken.push(`${file}: ${target} (no such file)`);
        } else if (anchor && !anchors(linked).has(anchor)) {
          broken.push(`${file}: ${target} (no such heading)`);
        }
      }
    }
    expect(broken).toEqual([]);
  });

  it('keep the README to a screen: at most 200 lines, prose lines of at most 120 characters', () => {
    const readme = readFileSync('README.md', 'utf8');
    expect(readme.split('\n').length).toBeLessThanOrEqual(200);
    const long = readme
      .replace(/^```[\s\S]*?^```/gm, '')
      .split('\n')
      .filter((l) => l.replace(/<?https?:\/\/\S+/g, '').length > 120);
    expect(long).toEqual([]);
  });

  it('document every setting the service reads', () => {
    const source = readFileSync('src/config/env.validation.ts', 'utf8');
    const settings = [...source.matchAll(/\b([A-Z][A-Z0-9_]+)\?: string;/g)].map((m) => m[1]);
    expect(settings.length).toBeGreaterThan(25);
    const documented = readFileSync('docs/configuration.md', 'utf8');
    expect(settings.filter((s) => !documented.includes(`| \`${s}\``))).toEqual([]);
  });

  it('document every audit event type', () => {
    const source = readFileSync('src/audit/audit.service.ts', 'utf8');
    const union = /export const AUDIT_EVENT_TYPES = \[([^\]]+)\]/.exec(source)?.[1] ?? '';
    const types = [...union.matchAll(/'([a-z_.]+)'/g)].map((m) => m[1]);
    expect(types.length).toBeGreaterThan(30);
    const documented = readFileSync('docs/audit-events.md', 'utf8');
    expect(types.filter((t) => !documented.includes(`| \`${t}\``))).toEqual([]);
  });
});
