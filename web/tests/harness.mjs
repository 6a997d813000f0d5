// What the browser tests and the screenshot script share: the real `dovira serve` on a fresh data
// directory and a fake clock, Debian's Chromium driven by playwright-core, axe-core injected into
// pages, the page timings, and a staff session that signs in the way the console will (password
// change, TOTP enrolment) to check what the server stored.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { createHmac } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium } from 'playwright-core';

const HERE = dirname(fileURLToPath(import.meta.url));  // Node 18 has no import.meta.dirname
export const REPO = resolve(HERE, '..', '..');
const BIN = process.env.DOVIRA_BIN ?? join(REPO, 'build/release/src/cli/dovira');
const CHROMIUM = process.env.CHROMIUM ?? '/usr/bin/chromium';
export const SCHOOL = 'vkluchi_zhizn';
export const ADMIN = 'admin@web-test.local';

// Starts the server; resolves once it prints its address and the bootstrap password.
export async function startServer({ policies = ['001_vkluchi_zhizn.toml'], clock = '2025-03-03T09:00:00Z', extraArgs = [] } = {}) {
  const data = mkdtempSync(join(tmpdir(), 'dovira-web-'));
  const args = ['serve', '--fake-clock', clock, '--data', data, '--port', '0', '--insecure-cookies',
    '--web-root', join(REPO, 'web/dist'), '--quiet', '--bootstrap-admin', ADMIN];
  for (const p of policies) args.push('--policy', join(REPO, 'policies', p));
  args.push(...extraArgs);
  const child = spawn(BIN, args, { cwd: REPO, stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  let err = '';
  child.stderr.on('data', (d) => { err += d; });
  const url = await new Promise((done, fail) => {
    const timer = setTimeout(() => fail(new Error(`the server did not start: ${err}`)), 15000);
    child.on('exit', (code) => fail(new Error(`the server exited with ${code}: ${err}`)));
    child.stdout.on('data', (d) => {
      out += d;
      const m = out.match(/listening on (http:\/\/[^/\s]+)\//);
      if (m && /one-time password/.test(out)) {
        clearTimeout(timer);
        done(m[1]);
      }
    });
  });
  const password = out.match(/one-time password (\S+)/)?.[1];
  // One bootstrap administrator per school, each with its own one-time password.
  const passwords = Object.fromEntries(
    [...out.matchAll(/school (\S+): sign in as \S+ \(role \S+\) with the one-time password (\S+)/g)].map((m) => [m[1], m[2]]));
  return {
    url,
    password,
    passwords,
    async stop() {
      child.kill('SIGTERM');
      await new Promise((done) => (child.exitCode !== null ? done() : child.once('exit', done)));
      rmSync(data, { recursive: true, force: true });
    },
  };
}

export async function launch() {
  return chromium.launch({
    executablePath: CHROMIUM,
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking'],
  });
}

const AXE = readFileSync(join(HERE, '..', 'node_modules/axe-core/axe.min.js'), 'utf8');

// axe-core's violations of impact serious or critical on the page as it is now. Injected through
// the DevTools protocol, so the pages' Content-Security-Policy stays as served.
export async function axe(page) {
  await page.evaluate(AXE);
  const result = await page.evaluate(async () => {
    // eslint-disable-next-line no-undef
    const r = await window.axe.run(document, { resultTypes: ['violations'] });
    return r.violations.map((v) => ({ id: v.id, impact: v.impact, help: v.help, nodes: v.nodes.map((n) => n.target.join(' ')) }));
  });
  return result.filter((v) => v.impact === 'serious' || v.impact === 'critical');
}

// A fresh browser context and page in `lang`, with the page's script errors collected in
// `errors` (a refused call, 4xx, is logged by the browser as a failed resource; tests expect some).
export async function openPage(browser, { width = 1280, height = 900, lang = 'en-US', init } = {}) {
  const context = await browser.newContext({ viewport: { width, height }, locale: lang });
  if (init) await context.addInitScript(init);
  const page = await context.newPage();
  const errors = [];
  page.on('pageerror', (e) => errors.push(String(e)));
  page.on('console', (m) => {
    if (m.type() === 'error' && !m.text().startsWith('Failed to load resource')) errors.push(m.text());
  });
  return { page, context, errors };
}

export async function noSeriousA11yIssues(page, where) {
  const issues = await axe(page);
  assert.deepEqual(issues, [], `${where}: axe found ${JSON.stringify(issues, null, 1)}`);
}

// Runs each test in turn, printing ok/FAIL with its time and the first lines of a failure;
// returns the number that failed.
export async function runEach(tests) {
  let failures = 0;
  for (const { name, fn } of tests) {
    const t0 = Date.now();
    try {
      await fn();
      console.log(`ok   ${name} (${Date.now() - t0} ms)`);
    } catch (e) {
      failures++;
      console.log(`FAIL ${name} (${Date.now() - t0} ms)\n     ${String(e?.stack ?? e).split('\n').slice(0, 6).join('\n     ')}`);
    }
  }
  return failures;
}

// Navigation timing of the current page, in milliseconds from the start of navigation.
export async function timings(page) {
  await page.waitForFunction(() => document.documentElement.dataset.ready === 'true', null, { timeout: 10000 });
  return page.evaluate(() => {
    const nav = performance.getEntriesByType('navigation')[0];
    const ready = performance.getEntriesByName('dovira:ready')[0];
    return {
      interactive: Math.round(nav.domInteractive),
      contentLoaded: Math.round(nav.domContentLoadedEventEnd),
      ready: Math.round(ready ? ready.startTime : NaN),
    };
  });
}

function base32Decode(s) {
  const alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ234567';
  let bits = '';
  for (const ch of s.replace(/=+$/, '').toUpperCase()) bits += alphabet.indexOf(ch).toString(2).padStart(5, '0');
  const bytes = [];
  for (let i = 0; i + 8 <= bits.length; i += 8) bytes.push(parseInt(bits.slice(i, i + 8), 2));
  return Buffer.from(bytes);
}

export function totp(secret, seconds) {
  const counter = Buffer.alloc(8);
  counter.writeBigUInt64BE(BigInt(Math.floor(seconds / 30)));
  const mac = createHmac('sha1', base32Decode(secret)).update(counter).digest();
  const o = mac[mac.length - 1] & 0xf;
  return String((mac.readUInt32BE(o) & 0x7fffffff) % 1e6).padStart(6, '0');
}

export const STAFF_PASSWORD = 'Quiet-Heron-Sings-4821!';

// A TOTP code for `secret` at the server's own time (it may run on a fake clock).
export async function totpNow(server, secret) {
  const now = (await (await fetch(`${server.url}/healthz`)).json()).now;
  return totp(secret, Date.parse(now) / 1000);
}

// A signed-in administrator of the school (first sign-in: new password, TOTP enrolment). Returns
// get/post on the session and what a later sign-in needs (password, TOTP secret).
export async function staffSession(server, school = SCHOOL) {
  server.staff ??= {};
  server.staff[school] ??= signInStaff(server, school);
  return server.staff[school];
}

async function signInStaff(server, school) {
  let cookie = '';
  let csrf = '';
  const call = async (method, path, body) => {
    const headers = { 'Content-Type': 'application/json' };
    if (cookie) headers.Cookie = cookie;
    if (csrf && method !== 'GET') headers['X-CSRF-Token'] = csrf;
    const r = await fetch(server.url + path, { method, headers, body: body ? JSON.stringify(body) : undefined });
    const setCookie = r.headers.get('set-cookie');
    if (setCookie) cookie = setCookie.split(';')[0];
    return { status: r.status, body: await r.json().catch(() => null) };
  };
  const oneTime = server.passwords?.[school] ?? server.password;
  let secret = '';
  const login = await call('POST', '/v1/auth/login', { school, email: ADMIN, password: oneTime });
  if (login.status !== 200) throw new Error(`login: ${login.status} ${JSON.stringify(login.body)}`);
  csrf = login.body.csrf_token;
  if (login.body.must_change_password) {
    const r = await call('POST', '/v1/auth/password', { current_password: oneTime, new_password: STAFF_PASSWORD });
    if (r.status !== 200) throw new Error(`password: ${r.status} ${JSON.stringify(r.body)}`);
  }
  if (login.body.mfa_required) {
    const begin = await call('POST', '/v1/auth/totp/begin', {});
    if (begin.status !== 200) throw new Error(`totp begin: ${begin.status} ${JSON.stringify(begin.body)}`);
    secret = begin.body.secret;
    const r = await call('POST', '/v1/auth/totp/confirm', { code: await totpNow(server, secret) });
    if (r.status !== 200) throw new Error(`totp confirm: ${r.status} ${JSON.stringify(r.body)}`);
  }
  return {
    get: (path) => call('GET', path),
    post: (path, body = {}) => call('POST', path, body),
    school,
    email: ADMIN,
    password: STAFF_PASSWORD,
    secret,
    staff: login.body.staff,
  };
}
