// Browser tests of the letters' two flows (issue 12), against the real server mailing through the
// SMTP sink: the double opt-in of a mailing subscription (the demo school's form, the one
// confirmation letter, the public confirmation page that confirms with a POST, the gate before
// and after) and the staff console's two-factor enrolment (the QR code drawn in the page from the
// otpauth URI, which names the school; the ten recovery codes shown once; a sign-in with one of
// them, which works once). Exits 1 when a test failed.
import assert from 'node:assert/strict';
import QRCode from 'qrcode';
import { ADMIN, launch, noSeriousA11yIssues, openPage, runEach, SCHOOL, STAFF_PASSWORD, startServer, staffSession, totpNow } from './harness.mjs';
import { startSmtpSink } from './smtp-sink.mjs';

const BASE = `/v1/schools/${SCHOOL}`;
// The options account.ts draws the QR code with (QR_OPTIONS there).
const QR_OPTIONS = { type: 'svg', errorCorrectionLevel: 'M', margin: 2, width: 220 };
const tests = [];
const test = (name, fn) => tests.push({ name, fn });

let server;
let sink;
let browser;

const newPage = (options) => openPage(browser, options);

async function advanceClock(seconds) {
  const r = await fetch(`${server.url}/v1/_test/clock`, {
    method: 'POST', headers: { 'Content-Type': 'application/json' }, body: JSON.stringify({ advance_seconds: seconds }),
  });
  assert.equal(r.status, 200);
}

// Runs the outbox until the sink holds `count` messages to `address`; returns them.
async function mailTo(address, count) {
  const staff = await staffSession(server);
  for (let i = 0; i < 50; i++) {
    const mine = sink.messages.filter((m) => m.rcpt.some((r) => r.includes(address)));
    if (mine.length >= count) return mine;
    const job = await staff.post(`${BASE}/jobs/outbox/run`);
    assert.equal(job.status, 200, JSON.stringify(job.body));
    await new Promise((done) => setTimeout(done, 100));
  }
  throw new Error(`fewer than ${count} messages were sent to ${address}`);
}

// How the gate answers the school's mailer for the subscriber's address (the console's search).
async function marketingGate(email) {
  const staff = await staffSession(server);
  const r = await staff.post(`${BASE}/subject-search`, { purpose: 'marketing_mailing', email });
  return r.status === 200 ? 'allowed' : r.body?.error?.code ?? String(r.status);
}

test('double opt-in: a subscription on the demo school\'s form waits for the e-mailed link, which the page confirms once with a POST', async () => {
  const email = 'subscriber.optin@example.com';
  const { page, context, errors } = await newPage();
  await page.goto(`${server.url}/demo-school.html?lang=en`);
  await page.waitForSelector('form.dovira-form');
  await page.locator('#dovira-cookie-banner').getByRole('button', { name: 'Reject all' }).click();
  const form = page.locator('form.dovira-form');
  await form.getByLabel('First name').fill('Iryna');
  await form.getByLabel('E-mail address').fill(email);
  await form.getByLabel('I am 18 or older').check();
  await form.locator('[data-consent] input').check();
  await form.locator('input[name=accept_policy]').check();
  await form.getByRole('button', { name: 'Send' }).click();
  await page.locator('.receipt').waitFor();

  // One letter, the confirmation, from the school; the marketing consent does not count yet.
  const [letter] = await mailTo(email, 1);
  assert.match(letter.data, /^From: .*Vkluchi Zhizn.*<natalia\.lomonosova\.kurs@gmail\.com>/im);
  assert.match(letter.text, /Please confirm|confirm the subscription/i);
  assert.doesNotMatch(letter.text, /Dovira/);
  assert.doesNotMatch(letter.text, /\d{4}-\d{2}-\d{2}T/);
  const link = letter.text.match(/http:\/\/\S+\/confirm\.html\?\S+/)?.[0];
  assert.ok(link, letter.text);
  assert.equal(await marketingGate(email), 'no_consent');

  // Opening the link confirms nothing (a mail scanner follows links); the button does.
  await page.goto(link);
  const main = page.locator('main');
  const button = page.getByRole('button', { name: 'Confirm subscription' });
  await button.waitFor();
  await page.getByText('You are subscribing to mailings from Vkluchi Zhizn').waitFor();
  await noSeriousA11yIssues(page, 'confirmation page');
  assert.equal(await marketingGate(email), 'no_consent');
  await button.click();
  await page.locator('main[data-state=confirmed]').waitFor();
  assert.match(await main.innerText(), /Your subscription is confirmed: Advertising and marketing mailings/);
  assert.equal(await marketingGate(email), 'allowed');
  await advanceClock(60);
  assert.equal((await mailTo(email, 1)).length, 1, 'nothing but the confirmation was sent');

  // The link is good once, and says so in the reader's language.
  await page.goto(link.replace('lang=en', 'lang=uk'));
  await page.getByRole('button', { name: 'Підтвердити підписку' }).click();
  await page.locator('main[data-state=link_used]').waitFor();
  assert.match(await main.innerText(), /Цю підписку вже підтверджено/);
  assert.deepEqual(errors, []);
  await context.close();
});

test('two-factor enrolment: a QR code of the school\'s otpauth URI beside the key, ten recovery codes shown once, and a recovery code signs in once', async () => {
  const admin = await staffSession(server);
  const email = 'owner.qr@school.example';
  const created = await admin.post(`${BASE}/staff`, { name: 'Oksana Bondar', email, role: 'responsible_person', password: 'Green-Maple-Falls-3904' });
  assert.equal(created.status, 201, JSON.stringify(created.body));
  assert.equal((await admin.post(`${BASE}/staff/${created.body.id}/briefing`)).status, 200);

  const { page, context, errors } = await newPage();
  const heading = (name) => page.getByRole('heading', { level: 1, name });
  const signIn = async (password, code = '') => {
    await page.goto(`${server.url}/console.html?lang=en`);
    await heading('Staff sign-in').waitFor();
    await page.getByLabel('School').selectOption(SCHOOL);
    await page.getByLabel('E-mail address').fill(email);
    await page.getByLabel('Password').fill(password);
    if (code) await page.locator('input[name=totp]').fill(code);
    await page.getByRole('button', { name: 'Sign in' }).click();
  };
  await signIn('Green-Maple-Falls-3904');
  await heading('Choose a new password').waitFor();
  await page.locator('input[name=current_password]').fill('Green-Maple-Falls-3904');
  await page.locator('input[name=new_password]').fill(STAFF_PASSWORD);
  await page.locator('input[name=repeat]').fill(STAFF_PASSWORD);
  await page.getByRole('button', { name: 'Change password' }).click();

  // The enrolment: the QR code is drawn in the page from the otpauth URI, which names the school.
  const qr = page.locator('img.totp-qr');
  await qr.waitFor();
  const uri = await page.locator('a[href^="otpauth:"]').getAttribute('href');
  const issuer = encodeURIComponent('Включи Жизнь');
  assert.equal(uri.split('?')[0], `otpauth://totp/${issuer}:${encodeURIComponent(email).replace('%40', '@')}`);
  assert.match(uri, new RegExp(`[?&]issuer=${issuer}(&|$)`));
  assert.doesNotMatch(uri, /Dovira/);
  const src = await qr.getAttribute('src');
  assert.match(src, /^data:image\/svg\+xml;base64,/);
  const drawn = Buffer.from(src.split(',')[1], 'base64').toString('utf8');
  assert.equal(drawn, await QRCode.toString(uri, QR_OPTIONS), 'the image is the QR code of the otpauth URI');
  assert.equal(await qr.evaluate((img) => img.complete && img.naturalWidth > 0), true, 'the image is rendered');
  assert.match(await qr.getAttribute('alt'), /Включи Жизнь/);
  const secret = await page.locator('code.totp-secret').getAttribute('data-secret');
  assert.ok(uri.includes(`secret=${secret}`));
  await noSeriousA11yIssues(page, 'TOTP enrolment');
  await page.locator('input[name=code]').fill(await totpNow(server, secret));
  await page.getByRole('button', { name: 'Confirm' }).click();

  // Ten recovery codes, shown once.
  await page.getByRole('heading', { level: 2, name: 'Recovery codes' }).waitFor();
  const codes = await page.locator('ol.recovery-codes code').allInnerTexts();
  assert.equal(codes.length, 10);
  for (const c of codes) assert.match(c, /^[A-Z2-7]{5}-[A-Z2-7]{5}$/);
  assert.equal(new Set(codes).size, 10);
  await noSeriousA11yIssues(page, 'recovery codes');
  await page.getByRole('button', { name: 'I have saved the codes' }).click();
  await page.locator('nav a[data-view=account]').waitFor();

  // A recovery code in place of the app's code: it signs in once, and the console says how many
  // are left; the same code again is refused.
  await page.getByRole('button', { name: 'Sign out' }).click();
  await heading('Staff sign-in').waitFor();
  await advanceClock(61);
  await signIn(STAFF_PASSWORD, codes[4].toLowerCase());
  await page.locator('.recovery-left').filter({ hasText: 'Unused codes left: 9' }).waitFor();
  await page.getByRole('button', { name: 'Sign out' }).click();
  await heading('Staff sign-in').waitFor();
  await signIn(STAFF_PASSWORD, codes[4]);
  await page.locator('form.signin [role=alert]:not(:empty), form.signin .err:not(:empty)').first().waitFor();
  assert.equal(await page.locator('nav a[data-view=account]').isVisible(), false, 'no console with a used code');
  assert.deepEqual(errors, []);
  await context.close();
});

test('double opt-in: an expired link is refused on the page, in the letter\'s language', async () => {
  const email = 'late.subscriber@example.com';
  const r = await fetch(`${server.url}${BASE}/forms/subscription/submissions`, {
    method: 'POST',
    headers: { 'Content-Type': 'application/json' },
    body: JSON.stringify({ fields: { first_name: 'Павел', email }, consents: ['pd_consent'], accept_policy: true, age_statement: 'adult', lang: 'ru' }),
  });
  const receipt = await r.json();
  assert.equal(r.status, 201, JSON.stringify(receipt));
  assert.deepEqual(receipt.awaiting_confirmation, ['marketing_mailing']);
  const [letter] = await mailTo(email, 1);
  assert.match(letter.text, /Подтвердите|подтвердить подписку/);
  const link = letter.text.match(/http:\/\/\S+\/confirm\.html\?\S+/)?.[0];
  assert.ok(link, letter.text);
  assert.equal(await marketingGate(email), 'no_consent');
  // Seven days on (the staff sessions of the other tests end on the way: this test runs last).
  await advanceClock(7 * 24 * 3600 + 1);
  const { page, context, errors } = await newPage({ lang: 'ru-RU' });
  await page.goto(link);
  await page.getByRole('button', { name: 'Подтвердить подписку' }).click();
  await page.locator('main[data-state=link_expired]').waitFor();
  assert.match(await page.locator('main').innerText(), /Срок действия ссылки истёк/);
  assert.deepEqual(errors, []);
  await context.close();
});

// ---- run -----------------------------------------------------------------------------------------

const started = Date.now();
let failures = 0;
const only = process.env.WEB_TEST_ONLY ?? '';
try {
  sink = await startSmtpSink();
  server = await startServer({ extraArgs: ['--smtp-url', sink.url] });
  browser = await launch();
  failures = await runEach(tests.filter((t) => t.name.includes(only)));
} finally {
  await browser?.close();
  await server?.stop();
  await sink?.stop();
}
console.log(`\n${tests.length - failures}/${tests.length} letter and enrolment browser tests passed in ${((Date.now() - started) / 1000).toFixed(1)} s`);
process.exit(failures ? 1 : 0);
