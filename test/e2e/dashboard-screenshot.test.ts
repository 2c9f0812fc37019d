import assert from 'node:assert/strict';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import {
  AUTH,
  USER,
  callRecord,
  launchChromium,
  openPage,
  startDashboardProcess,
  storeWorkspace,
  thisMinute,
  withStore,
  type DashboardProcess,
} from '../helpers/dashboard.ts';
import { repoRoot } from '../helpers/workspace.ts';

// The README's screenshot of the overview, taken in this setup: an hour of calls of the example's two services
// (seeded, so every run draws the same), the page in Debian's Chromium. `UPDATE_SCREENSHOT=1` writes
// docs/dashboard-overview.png; every run checks the page's totals and that the committed file is that PNG's size.

const SCREENSHOT = join(repoRoot, 'docs', 'dashboard-overview.png');
const VIEWPORT = { width: 1200, height: 640 };

/** The example's methods, how often each is called, and the status codes it answers besides OK. */
const METHODS = [
  [AUTH, 'Login', 6, [16, 16, 3]],
  [AUTH, 'ValidateToken', 10, [16]],
  [USER, 'GetUser', 8, [5, 5, 13]],
  [USER, 'ListUsers', 3, [4]],
] as const;

let dashboard: DashboardProcess;
let calls = 0;
let errors = 0;

describe('the README screenshot of the dashboard', { timeout: 120_000 }, () => {
  before(async () => {
    const { ws, storeUrl } = await storeWorkspace();
    const now = thisMinute();
    // A small linear congruential generator: the same hour of calls every run.
    let seed = 42;
    const random = () => (seed = (seed * 1_103_515_245 + 12_345) % 2 ** 31) / 2 ** 31;
    await withStore(storeUrl, (store) => {
      for (let second = 3_540; second > 0; second -= 5) {
        const busy = 1 + Math.sin(second / 600) * 0.5;
        for (const [service, method, weight, failures] of METHODS) {
          if (random() > (weight / 10) * busy) continue;
          const failed = random() < 0.06;
          const statusCode = failed ? (failures[Math.floor(random() * failures.length)] ?? 13) : 0;
          const durationMs = Math.round((2 + random() ** 4 * (method === 'ListUsers' ? 180 : 60)) * 100) / 100;
          store.logs.record(
            callRecord(calls, {
              startedAt: now - second * 1000,
              service,
              method,
              statusCode,
              durationMs,
              principal: 'apikey:web',
            }),
          );
          calls++;
          if (failed) errors++;
        }
      }
    });
    dashboard = await startDashboardProcess(ws, ['--since', '1h']);
  });
  after(() => dashboard.stop());

  test('the overview of an hour of calls; the committed screenshot is of this page', async () => {
    const browser = await launchChromium();
    try {
      const { page } = await openPage(browser);
      await page.setViewportSize(VIEWPORT);
      await page.goto(`${dashboard.base}/#token=${dashboard.token}`);
      await page.locator('#total-calls', { hasText: String(calls) }).waitFor();
      assert.equal(await page.textContent('#total-errors'), String(errors));
      await page.waitForSelector('.uplot canvas');
      const png = await page.screenshot({ fullPage: false });
      if (process.env.UPDATE_SCREENSHOT === '1') {
        await mkdir(join(repoRoot, 'docs'), { recursive: true });
        await writeFile(SCREENSHOT, png);
      }
      const committed = await readFile(SCREENSHOT).catch(() => undefined);
      assert.ok(committed, `${SCREENSHOT} is missing: run UPDATE_SCREENSHOT=1 node scripts/run-tests.mjs dashboard-screenshot`);
      // PNG signature, then the IHDR width and height (big-endian, at bytes 16 and 20).
      assert.equal(committed.subarray(1, 4).toString('latin1'), 'PNG');
      assert.deepEqual([committed.readUInt32BE(16), committed.readUInt32BE(20)], [VIEWPORT.width, VIEWPORT.height]);
    } finally {
      await browser.close();
    }
  });
});
