// A headless Chromium the Rust tests drive line by line (onair_testkit::browser): one JSON
// command per stdin line, one JSON reply per stdout line ({"ok": value} or {"error": text}).
// Commands: goto {url}, eval {js} (an expression or async function body's value), click
// {selector}, fill {selector, text}, until {js, timeout_ms} (a JavaScript expression turns
// truthy), wait {selector, timeout_ms}, screenshot {path}, log, close.
import { chromium } from 'playwright-core';
import { createInterface } from 'node:readline';

const executablePath = process.env.ONAIR_CHROMIUM || '/usr/bin/chromium';
const browser = await chromium.launch({
  executablePath,
  args: ['--autoplay-policy=no-user-gesture-required', '--no-sandbox'],
});
const page = await browser.newPage({ viewport: { width: 1280, height: 800 } });
const log = [];
page.on('console', (m) => log.push(`${m.type()}: ${m.text()}`));
page.on('pageerror', (e) => log.push(`pageerror: ${e.message}`));

const commands = {
  goto: async ({ url }) => (await page.goto(url, { waitUntil: 'load' }))?.status() ?? null,
  eval: async ({ js }) => page.evaluate(js),
  click: async ({ selector }) => page.click(selector, { timeout: 5000 }),
  fill: async ({ selector, text }) => page.fill(selector, text, { timeout: 5000 }),
  // Polled from here with page.evaluate (DevTools evaluation, which the pages' strict CSP
  // allows; waitForFunction compiles the string inside the page, which it forbids).
  until: async ({ js, timeout_ms }) => {
    const deadline = Date.now() + (timeout_ms ?? 5000);
    for (;;) {
      const value = await page.evaluate(js);
      if (value) return value;
      if (Date.now() > deadline) throw new Error(`timed out after ${timeout_ms} ms: ${js}`);
      await new Promise((r) => setTimeout(r, 20));
    }
  },
  wait: async ({ selector, timeout_ms }) =>
    (await page.waitForSelector(selector, { timeout: timeout_ms ?? 5000 })) !== null,
  screenshot: async ({ path }) => (await page.screenshot({ path, fullPage: false }), path),
  log: async () => log.splice(0),
  close: async () => {
    await browser.close();
    process.exit(0);
  },
};

process.stdout.write(JSON.stringify({ ok: 'ready' }) + '\n');
for await (const line of createInterface({ input: process.stdin })) {
  let reply;
  try {
    const cmd = JSON.parse(line);
    const run = commands[cmd.cmd];
    if (!run) throw new Error(`unknown command ${cmd.cmd}`);
    const value = await run(cmd);
    reply = { ok: value === undefined ? null : value };
  } catch (e) {
    reply = { error: String(e.message || e) };
  }
  process.stdout.write(JSON.stringify(reply) + '\n');
}
await browser.close();
