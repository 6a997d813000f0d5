// The README's "Try the demo" walk-through in the browser, against the server as `make run` starts
// it: scripts/run-demo.sh itself (policy 001, the demo school, --mail-dir and the mail follower),
// on a free port and a fresh data directory, on the real clock. A learner registers through the
// demo school page's embedded form, signs in to the cabinet with the code read from the mail
// directory (and shown on the terminal), sees their data, withdraws the consent and downloads
// their data; the administrator signs in to the staff console for the first time (new password,
// TOTP enrolment), finds the withdrawal in the queue and carries it out. Ctrl-C (SIGINT to the
// script's process group, as a terminal sends it) then stops everything. Exits 1 on a failure.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { axe, launch, REPO, SCHOOL, timings, totpNow } from './harness.mjs';

const NAME = 'demo: the README walk-through from make run, learner and staff';
const BUILD = process.env.DOVIRA_BUILD ?? 'build/release';
const ADMIN = 'admin@demo.school';  // run-demo.sh's bootstrap administrator
const LEARNER = 'olena.demo@example.com';
const NEW_PASSWORD = 'Linden-Harbour-Glows-6042';

// Starts scripts/run-demo.sh in its own process group; resolves once the server has printed its
// address and the administrator's one-time password. `output()` is everything the terminal shows.
async function startDemo() {
  const data = mkdtempSync(join(tmpdir(), 'dovira-demo-'));
  const child = spawn('bash', ['scripts/run-demo.sh', BUILD], {
    cwd: REPO, detached: true, stdio: ['ignore', 'pipe', 'pipe'],
    env: { ...process.env, DOVIRA_PORT: '0', DOVIRA_DATA: join(data, 'demo-data') },
  });
  let out = '';
  child.stdout.on('data', (d) => { out += d; });
  child.stderr.on('data', (d) => { out += d; });
  const exited = new Promise((done) => child.once('exit', (code, signal) => done({ code, signal })));
  const url = await new Promise((done, fail) => {
    const timer = setTimeout(() => fail(new Error(`the demo did not start:\n${out}`)), 20000);
    exited.then(({ code }) => fail(new Error(`the demo exited with ${code}:\n${out}`)));
    child.stdout.on('data', () => {
      const m = out.match(/listening on (http:\/\/[^/\s]+)\//);
      if (m && /one-time password \S+\n/.test(out)) {
        clearTimeout(timer);
        done(m[1]);
      }
    });
  });
  return {
    url,
    password: out.match(/one-time password (\S+)/)[1],
    mailDir: join(data, 'demo-data', 'mail'),
    output: () => out,
    // Ctrl-C: SIGINT to the whole group, as the terminal sends it. Resolves with the script's
    // exit and whether anything of the group is left.
    async interrupt() {
      process.kill(-child.pid, 'SIGINT');
      const how = await Promise.race([exited, new Promise((done) => setTimeout(() => done(null), 10000))]);
      await new Promise((done) => setTimeout(done, 300));
      let left = true;
      try { process.kill(-child.pid, 0); } catch { left = false; }
      if (left) process.kill(-child.pid, 'SIGKILL');
      return { how, left };
    },
    cleanup() { rmSync(data, { recursive: true, force: true }); },
  };
}

// ---- reading the mail directory ------------------------------------------------------------------

function decodeWords(value) {
  return value.replace(/=\?UTF-8\?B\?([^?]*)\?=(\s+(?==\?))?/gi, (_, b64) => Buffer.from(b64, 'base64').toString('utf8'));
}

// One .eml file as the server writes it: To, Subject and the text/plain part, decoded.
function readMail(path) {
  const raw = readFileSync(path, 'latin1');
  const split = raw.indexOf('\r\n\r\n');
  const head = raw.slice(0, split).replace(/\r\n[ \t]+/g, ' ');
  const header = (name) => head.match(new RegExp(`^${name}: (.*)$`, 'mi'))?.[1] ?? '';
  let body = raw.slice(split + 4);
  const boundary = header('Content-Type').match(/boundary="([^"]+)"/)?.[1];
  if (boundary) {
    const part = body.split(`--${boundary}`)[1];
    body = part.slice(part.indexOf('\r\n\r\n') + 4);
  }
  return {
    to: header('To'),
    subject: decodeWords(header('Subject')),
    // MIME text is in CRLF lines; the server wrote it with LF.
    text: Buffer.from(body.replace(/\s+/g, ''), 'base64').toString('utf8').replace(/\r\n/g, '\n'),
  };
}

const emlFiles = (dir) => readdirSync(dir).filter((n) => n.endsWith('.eml') && !n.startsWith('.')).sort();

// Waits (the server's outbox job is woken by the sign-in) for a message to `to` that was not in
// `before`; returns it.
async function nextMail(dir, to, before) {
  for (let i = 0; i < 100; i++) {
    for (const name of emlFiles(dir)) {
      if (before.includes(name)) continue;
      const mail = readMail(join(dir, name));
      if (mail.to === to) return { name, ...mail };
    }
    await new Promise((done) => setTimeout(done, 100));
  }
  throw new Error(`no e-mail to ${to} appeared in ${dir}`);
}

// ---- the walk-through ----------------------------------------------------------------------------

async function walkThrough(demo, browser) {
  const pageErrors = [];
  const newPage = async () => {
    const context = await browser.newContext({ viewport: { width: 1280, height: 900 }, locale: 'en-US', acceptDownloads: true });
    const page = await context.newPage();
    page.on('pageerror', (e) => pageErrors.push(String(e)));
    return { context, page };
  };
  const noSeriousA11yIssues = async (page, where) => assert.deepEqual(await axe(page), [], where);

  // What `make run` prints: where the console is, who the administrator is, the TOTP app.
  const banner = demo.output();
  assert.match(banner, new RegExp(`staff console: ${demo.url}/console\\.html`));
  assert.match(banner, new RegExp(`demo school page: ${demo.url}/demo-school\\.html`));
  assert.match(banner, new RegExp(`sign in as ${ADMIN} \\(role \\S+\\) with the one-time password`));
  assert.match(banner, /TOTP authenticator app/);
  assert.match(banner, new RegExp(`e-mail is written into ${demo.mailDir}`));

  // 1. The learner registers on the demo school's page, through its embedded form.
  const learner = await newPage();
  let page = learner.page;
  await page.goto(`${demo.url}/demo-school.html?lang=en`);
  await timings(page);
  await page.locator('#dovira-cookie-banner').getByRole('button', { name: 'Reject all' }).click();
  const form = page.locator('form.dovira-form');
  await form.getByLabel('First name').fill('Olena');
  await form.getByLabel('E-mail address').fill(LEARNER);
  await form.getByLabel('I am 18 or older').check();
  await form.getByLabel(/I have read the personal data notice/).check();
  await form.getByLabel('I agree to the processing of my personal data').check();
  await form.getByRole('button', { name: 'Send' }).click();
  await page.locator('.receipt').waitFor();
  // The subscription waits for its double opt-in: the one letter so far asks to confirm it.
  const confirmation = await nextMail(demo.mailDir, LEARNER, []);
  assert.equal(confirmation.subject, 'Please confirm your subscription: Vkluchi Zhizn');

  // 2. The cabinet: the code is e-mailed, i.e. written into the mail directory and shown on the
  // terminal.
  await page.goto(`${demo.url}/cabinet.html?lang=en`);
  await timings(page);
  const before = emlFiles(demo.mailDir);
  await page.getByLabel('E-mail address').fill(LEARNER);
  await page.getByRole('button', { name: 'Send me a code' }).click();
  const codeMail = await nextMail(demo.mailDir, LEARNER, before);
  const code = codeMail.text.match(/: (\d{6})/)?.[1];
  assert.ok(code, codeMail.text);
  // In the page's language, as the README shows it.
  assert.equal(codeMail.subject, 'Your personal account sign-in code');
  assert.match(codeMail.text, /^Your sign-in code for the Vkluchi Zhizn personal account: \d{6}\n/);
  for (let i = 0; i < 50 && !demo.output().includes(code); i++) await new Promise((done) => setTimeout(done, 100));
  const shown = demo.output();
  assert.ok(shown.includes(`To:      ${LEARNER}`), shown);
  assert.ok(shown.includes(`Subject: ${codeMail.subject}`), shown);
  assert.ok(shown.includes(code), 'the terminal shows the sign-in code');
  await page.getByLabel('Code from the e-mail').fill(code);
  await page.getByRole('button', { name: 'Sign in' }).click();
  await page.getByRole('navigation', { name: 'Sections of the personal account' }).waitFor();

  // 3. The learner's data, as they entered it.
  const field = (id) => page.locator(`li.field[data-field="${id}"]`);
  assert.equal(await field('first_name').locator('.value').innerText(), 'Olena');
  assert.equal(await field('email').locator('.value').innerText(), LEARNER);
  await noSeriousA11yIssues(page, 'cabinet, my data');

  // 4. Withdrawing the consent: the policy's consequence notice, acknowledged.
  await page.getByRole('link', { name: 'Consents' }).click();
  const consents = page.locator('#view-consents');
  await consents.getByRole('button', { name: 'Withdraw consent' }).click();
  const notice = consents.locator('.consequence');
  await notice.getByLabel('I have read this and want to withdraw my consent').check();
  await notice.getByRole('button', { name: 'Confirm withdrawal' }).click();
  await consents.locator('.done').filter({ hasText: 'Your withdrawal has been recorded' }).waitFor();
  assert.match(await consents.locator('.ledger').innerText(), /Withdrawn/);

  // 5. Downloading the data.
  await page.getByRole('link', { name: 'Download or send' }).click();
  const download = page.locator('#view-download');
  const [json] = await Promise.all([page.waitForEvent('download'), download.getByRole('link', { name: 'Download as JSON' }).click()]);
  const exported = JSON.parse(readFileSync(await json.path(), 'utf8'));
  const byField = Object.fromEntries(exported.fields.map((f) => [f.field, f.value]));
  assert.equal(byField.email, LEARNER);
  assert.equal(byField.first_name, 'Olena');

  // 6. Staff: the first sign-in to the console with the printed one-time password.
  const staff = await newPage();
  const console_ = staff.page;
  await console_.goto(`${demo.url}/console.html?lang=en`);
  await timings(console_);
  await console_.getByLabel('E-mail address').fill(ADMIN);
  await console_.getByLabel('Password').fill(demo.password);
  await console_.getByRole('button', { name: 'Sign in' }).click();
  await console_.getByRole('heading', { level: 1, name: 'Choose a new password' }).waitFor();
  await console_.getByLabel('Current password').fill(demo.password);
  await console_.getByLabel(/^New password(?! again)/).fill(NEW_PASSWORD);
  await console_.getByLabel('New password again').fill(NEW_PASSWORD);
  await console_.getByRole('button', { name: 'Change password' }).click();
  await console_.getByRole('heading', { level: 1, name: 'Set up a second factor' }).waitFor();
  const secret = await console_.locator('.totp-secret').getAttribute('data-secret');
  await console_.getByLabel('Code from the app').fill(await totpNow(demo, secret));
  await console_.getByRole('button', { name: 'Confirm' }).click();
  await console_.getByRole('button', { name: 'I have saved the codes' }).click();  // recovery codes

  // 7. The withdrawal is in the queue; carried out, the learner's data are destroyed.
  await console_.getByRole('heading', { level: 1, name: 'Request queue' }).waitFor();
  const row = console_.locator('table.data tbody tr').filter({ hasText: 'Withdrawal of consent' });
  assert.equal(await row.count(), 1, await console_.locator('table.data').innerText());
  await row.getByRole('link').first().click();
  await console_.getByRole('heading', { level: 1, name: /Request: Withdrawal of consent/ }).waitFor();
  const id = decodeURIComponent(console_.url().split('#/requests/')[1]);
  await console_.getByRole('heading', { level: 1, name: /In progress/ }).waitFor();
  await noSeriousA11yIssues(console_, 'console, the withdrawal');
  await console_.locator('form.step-complete').getByRole('button', { name: 'Carry out' }).click();
  // Destroying the data is asked first, in plain words.
  await console_.getByRole('dialog', { name: 'Destroy the subject’s data?' }).getByRole('button', { name: 'Destroy the data' }).click();
  await console_.getByRole('heading', { level: 1, name: /Done/ }).waitFor();
  const stored = await console_.evaluate(async (path) => (await fetch(path)).json(), `/v1/schools/${SCHOOL}/requests/${id}`);
  assert.equal(stored.state, 'done');
  assert.equal(stored.outcome, 'erased');
  // The data are gone: the learner's cabinet session went with them.
  await page.reload();
  await timings(page);
  await page.getByRole('heading', { name: 'Sign in', level: 2 }).waitFor();
  assert.deepEqual(pageErrors, []);
  await learner.context.close();
  await staff.context.close();
}

// ---- run -----------------------------------------------------------------------------------------

const only = process.env.WEB_TEST_ONLY;
if (only && !NAME.includes(only)) process.exit(0);
const started = Date.now();
let failed = false;
let demo;
let browser;
try {
  demo = await startDemo();
  browser = await launch();
  await walkThrough(demo, browser);
  await browser.close();
  browser = null;
  // Ctrl-C stops the server and the mail follower; nothing of the demo is left running.
  const { how, left } = await demo.interrupt();
  assert.deepEqual(how, { code: 0, signal: null }, demo.output());
  assert.equal(left, false, 'a process of the demo outlived Ctrl-C');
  assert.match(demo.output(), /stopping\n/);
  console.log(`ok   ${NAME} (${Date.now() - started} ms)`);
} catch (e) {
  failed = true;
  console.log(`FAIL ${NAME} (${Date.now() - started} ms)\n     ${String(e?.stack ?? e).split('\n').slice(0, 8).join('\n     ')}`);
} finally {
  await browser?.close();
  if (demo) {
    await demo.interrupt().catch(() => {});
    demo.cleanup();
  }
}
process.exit(failed ? 1 : 0);
