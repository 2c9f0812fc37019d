import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import type { Browser, Page } from 'playwright-core';
import type { CallRecord } from '../../packages/runtime/src/logstore/call-record.ts';
import { createLogStore } from '../../packages/runtime/src/logstore/create-log-store.ts';
import type { LogStore } from '../../packages/runtime/src/index.ts';
import { childEnv, repoRoot, tempDir, writeFiles } from './workspace.ts';

// Shared set-up of the tests over a filled log store (test/e2e/dashboard*.test.ts, store-json.test.ts): the
// workspace, the calls, a `grpcforge dashboard` process, and Chromium pages watched for errors and other origins.

export const CHROMIUM = '/usr/bin/chromium';
export const AUTH = 'auth.v1.AuthService';
export const USER = 'user.v1.UserService';

/**
 * A temp workspace (no contracts) whose grpcforge.yaml has auth (serves auth.v1.AuthService) and user (serves
 * user.v1.UserService, consumes it and a billing service no one serves), and the URL of its (default) store file.
 */
export async function storeWorkspace(): Promise<{ ws: string; storeUrl: string }> {
  const ws = await tempDir();
  await writeFiles(ws, {
    'grpcforge.yaml': [
      'version: 1',
      'services:',
      '  auth:',
      '    serves: [auth.v1.AuthService]',
      '    listen: 127.0.0.1:0',
      '  user:',
      '    serves: [user.v1.UserService]',
      '    consumes:',
      '      - auth.v1.AuthService',
      "      - { service: billing.v1.BillingService, target: 'dns:///billing:50051' }",
      '    listen: 127.0.0.1:0',
      '',
    ].join('\n'),
  });
  return { ws, storeUrl: `sqlite:${join(ws, '.grpcforge/grpcforge.db')}` };
}

/** Runs `use` on a store opened on `url` (as writer unless told otherwise), then closes it. */
export async function withStore<T>(url: string, use: (store: LogStore) => Promise<T> | T, writer = true): Promise<T> {
  const store = await createLogStore({ url, writer });
  try {
    return await use(store);
  } finally {
    await store.close();
  }
}

/** What a test chooses of a registered instance; `service` defaults to auth, `host` is "ci". */
type InstanceFields = Omit<Parameters<LogStore['instances']['register']>[0], 'id' | 'host' | 'service'> & { service?: string };

/** Registers the instance `id` in the store, as `grpcforge serve` does when it starts. */
export async function registerInstance(store: LogStore, id: string, { service = 'auth', ...fields }: InstanceFields) {
  await store.instances.register({ id, service, host: 'ci', ...fields });
}

/** A UUIDv7 of `startedAt` with a fixed random part (`index`), as the logger makes them. */
export function requestIdOf(startedAt: number, index: number): string {
  const time = startedAt.toString(16).padStart(12, '0');
  return `${time.slice(0, 8)}-${time.slice(8)}-7000-8000-${index.toString().padStart(12, '0')}`;
}

/** The fields a test chooses; the rest of a unary call's record has fixed values. */
export type CallFields = Pick<CallRecord, 'startedAt' | 'service' | 'method' | 'statusCode' | 'durationMs'> & Partial<CallRecord>;

/** A unary call's record, its request id {@link requestIdOf} its start and `index`; `errorMessage` "failed" on errors. */
export function callRecord(index: number, fields: CallFields): CallRecord {
  return {
    requestId: requestIdOf(fields.startedAt, index),
    kind: 'unary',
    principal: null,
    apiKeyId: null,
    peer: '127.0.0.1:50000',
    requestBytes: 10,
    responseBytes: 20,
    requestMessages: 1,
    responseMessages: 1,
    errorMessage: fields.statusCode === 0 ? null : 'failed',
    ...fields,
  };
}

/**
 * The calls of a plan of `[service, method, statusCode]`, one a second from two minutes before `now`, the `index`th
 * taking (index + 1) × 2 ms; `more` adds fields to a call.
 */
export function plannedCalls(
  plan: readonly (readonly [string, string, number])[],
  now: number,
  more: (index: number) => Partial<CallRecord> = () => ({}),
): CallRecord[] {
  return plan.map(([service, method, statusCode], index) =>
    callRecord(index, {
      startedAt: now - 120_000 + index * 1000,
      service,
      method,
      statusCode,
      durationMs: (index + 1) * 2,
      ...more(index),
    }),
  );
}

/** The start of the current minute, in ms: calls placed from it keep the rollups' buckets stable. */
export const thisMinute = () => Math.floor(Date.now() / 60_000) * 60_000;

/** A `grpcforge dashboard` process. */
export interface DashboardProcess {
  /** `http://127.0.0.1:PORT`. */
  readonly base: string;
  readonly token: string;
  /** Every line it printed on stdout so far. */
  readonly lines: readonly string[];
  readonly exited: Promise<number | null>;
  /** Everything it wrote to stderr so far. */
  stderr(): string;
  /** Sends SIGTERM. */
  stop(): void;
}

/**
 * Starts `grpcforge dashboard --port 0 ...args` in `cwd` (with `env` added to this process's) and waits for its
 * line, `dashboard on URL/#token=TOKEN`.
 */
export async function startDashboardProcess(
  cwd: string,
  args: readonly string[] = ['--since', '1h'],
  env: NodeJS.ProcessEnv = {},
): Promise<DashboardProcess> {
  const child = spawn(process.execPath, [join(repoRoot, 'bin/grpcforge'), 'dashboard', '--port', '0', ...args], {
    cwd,
    env: childEnv(env),
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stderr = '';
  const lines: string[] = [];
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  const first = await new Promise<string>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`dashboard printed nothing in 30 s: ${stderr}`)), 30_000);
    void exited.then((code) => reject(new Error(`dashboard exited with ${String(code)}: ${stderr}`)));
    createInterface({ input: child.stdout }).on('line', (line) => {
      lines.push(line);
      clearTimeout(timer);
      resolve(line);
    });
  });
  const match = /^dashboard on (http:\/\/127\.0\.0\.1:\d+)\/#token=([A-Za-z0-9_-]{43})$/.exec(first);
  assert.ok(match, `the line: ${first}`);
  const [, base, token] = match as unknown as [string, string, string];
  return { base, token, lines, exited, stderr: () => stderr, stop: () => child.kill('SIGTERM') };
}

/** Debian's Chromium through playwright-core, headless, with the options the tests need. */
export async function launchChromium(): Promise<Browser> {
  assert.ok(existsSync(CHROMIUM), `${CHROMIUM} is missing: apt-get install chromium (.ci/run does)`);
  const { chromium } = await import('playwright-core');
  return chromium.launch({
    executablePath: CHROMIUM,
    headless: true,
    args: ['--no-sandbox', '--disable-background-networking'],
    timeout: 30_000,
  });
}

/** What pages asked for and what they logged as errors (console errors and page errors, each with the page's URL). */
export interface PageWatch {
  readonly requested: string[];
  readonly problems: string[];
}

/** A new page of `browser` (15 s timeouts) whose requests and errors go to `watch` (a new one unless given). */
export async function openPage(browser: Browser, watch: PageWatch = { requested: [], problems: [] }) {
  const page: Page = await browser.newPage();
  page.setDefaultTimeout(15_000);
  page.on('request', (request) => watch.requested.push(request.url()));
  page.on('console', (message) => {
    if (message.type() === 'error') watch.problems.push(`${page.url()}: ${message.text()}`);
  });
  page.on('pageerror', (error) => watch.problems.push(`${page.url()}: ${error.message}`));
  return { page, ...watch };
}

/** The pages asked for something, all of it from `base`'s origin, and logged no error. */
export function assertClean(base: string, { requested, problems }: PageWatch): void {
  assert.ok(requested.length > 0);
  const origin = new URL(base).origin;
  assert.deepEqual(
    requested.filter((url) => new URL(url).origin !== origin),
    [],
  );
  assert.deepEqual(problems, []);
}
