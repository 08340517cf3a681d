// The landing page as a person sees it: the agent's `/` rendered by a real
// headless Chromium (Debian's package), after real INCONSISTENT skbs at a
// receive hook. The DOM Chromium built must say what each count means there
// (legal here, not a page), show the build line, and the screenshot is kept
// for a person to look at.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { execa } from 'execa';
import { mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { inconsistentCounted, startAgent, type Agent } from '../helpers/agent.js';
import { cleanup, inject, tapHost } from '../helpers/net.js';

const HOOK = 'netif_receive_skb_entry';
const INJECTED = 40;

/** Chromium, headless, in a profile of its own that is removed after. */
async function chromium(args: string[]): Promise<string> {
  const profile = mkdtempSync(join(tmpdir(), 'flx-chromium-'));
  try {
    const r = await execa('chromium', ['--headless=new', '--no-sandbox', '--disable-gpu', '--no-first-run', `--user-data-dir=${profile}`, ...args],
      { timeout: 60_000 });
    return r.stdout;
  } finally {
    rmSync(profile, { recursive: true, force: true });
  }
}

describe('the landing page in a real browser', () => {
  let agent: Agent, tap: Awaited<ReturnType<typeof tapHost>>;
  before(async () => {
    tap = await tapHost();
    agent = await startAgent();
  });
  after(async () => {
    if (agent) await agent.stop();
    await cleanup();
  });

  test(`${INJECTED} INCONSISTENT skbs at ${HOOK}: counted, and shown as legal there, with the build line`, async () => {
    assert.equal(await inconsistentCounted(agent.base, INJECTED, () => inject(tap.ns, tap.dev, '198.18.0.2', '198.18.0.1', INJECTED)), INJECTED);
    const dom = await chromium(['--dump-dom', `${agent.base}/`]);
    const row = new RegExp(`<tr><td>${HOOK}</td>(.*?)</tr>`).exec(dom)?.[1];
    assert.ok(row, `a row for ${HOOK} in the DOM Chromium built:\n${dom.slice(0, 2000)}`);
    const cells = [...row.matchAll(/<td[^>]*>(.*?)<\/td>/g)].map((m) => m[1]);
    // inspected, INCONSISTENT and its meaning, OVERRUN and its meaning, FRAGLIST without a list and its meaning, culprits
    assert.ok(Number(cells[0]) >= INJECTED, `inspected ${cells[0]}`);
    assert.deepEqual(cells.slice(1, 3), [String(INJECTED), 'legal here'], 'counted, and not a page: a linear GSO skb is legal on receive');
    assert.deepEqual(cells.slice(3, 5), ['0', 'page'], 'OVERRUN would page anywhere');
    assert.match(dom, /Version: \(version=\d+\.\d+\.\d+, bpftrace=v0\.\d+\.\d+, kernel=\S+, node=v\d+\.\d+\.\d+, mode=tracepoint\)/);
    assert.match(dom, /Tracer <b>up<\/b> in <b>tracepoint<\/b> mode/);

    // FLX_KEEP_SCREENSHOT=1 keeps the picture for a person to look at
    const dir = mkdtempSync(join(tmpdir(), 'flx-landing-'));
    try {
      const png = join(dir, 'landing.png');
      await chromium(['--window-size=1200,700', `--screenshot=${png}`, `${agent.base}/`]);
      assert.ok(statSync(png).size > 10_000, 'a screenshot was drawn');
      process.stdout.write(`# landing page: ${HOOK} ${cells.slice(1, 3).join(' ')}; screenshot of ${statSync(png).size} bytes${process.env.FLX_KEEP_SCREENSHOT ? ` at ${png}` : ''}\n`);
    } finally {
      if (!process.env.FLX_KEEP_SCREENSHOT) rmSync(dir, { recursive: true, force: true });
    }
  });
});
