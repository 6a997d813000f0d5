// PNGs of the main public pages and of the staff console for docs/screenshots/ (make
// screenshots): the real server on a fresh data directory, Debian's Chromium, desktop and phone
// widths. The console's views are shown signed in, over a few requests filed for the purpose.
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { makeSubject, mailedCode } from '../tests/cabinet.mjs';
import { ADMIN, launch, REPO, SCHOOL, staffSession, startServer, timings, totpNow } from '../tests/harness.mjs';
import { startSmtpSink } from '../tests/smtp-sink.mjs';

const out = join(REPO, 'docs/screenshots');
mkdirSync(out, { recursive: true });
const sink = await startSmtpSink();  // the personal cabinet e-mails its sign-in codes
const server = await startServer({ extraArgs: ['--smtp-url', sink.url] });
const browser = await launch();
try {
  const shots = [
    { name: 'home-uk', path: '/?lang=uk' },
    { name: 'notice-en', path: `/notice.html?school=${SCHOOL}&lang=en` },
    { name: 'demo-school-banner-uk', path: '/demo-school.html?lang=uk' },
    { name: 'demo-school-choices-en', path: '/demo-school.html?lang=en', choose: 'Choose' },
    { name: 'demo-school-form-en', path: '/demo-school.html?lang=en', dismiss: 'Reject all' },
    { name: 'phone-demo-school-ru', path: '/demo-school.html?lang=ru', phone: true },
    { name: 'phone-notice-uk', path: `/notice.html?school=${SCHOOL}&lang=uk`, phone: true },
  ];
  for (const s of shots) {
    const context = await browser.newContext({
      viewport: s.phone ? { width: 375, height: 740 } : { width: 1280, height: 860 },
      deviceScaleFactor: 1,
      colorScheme: 'light',
    });
    const page = await context.newPage();
    await page.goto(server.url + s.path);
    await timings(page);
    if (s.path.startsWith('/demo')) {
      await page.waitForSelector('form.dovira-form');
      await page.locator('#dovira-cookie-banner').getByRole('dialog').waitFor();
    }
    if (s.choose) await page.locator('#dovira-cookie-banner').getByRole('button', { name: s.choose }).click();
    if (s.dismiss) {
      await page.locator('#dovira-cookie-banner').getByRole('button', { name: s.dismiss }).click();
      await page.locator('#dovira-cookie-banner').getByRole('button', { name: 'Cookie settings' }).waitFor();
    }
    const file = join(out, `${s.name}.png`);
    await page.screenshot({ path: file, fullPage: false });
    console.log(`wrote ${file}`);
    await context.close();
  }

  // The personal cabinet: signed out, then signed in as a fresh buyer, one view per shot.
  const cabinet = [
    { name: 'cabinet-sign-in-en', lang: 'en' },
    { name: 'cabinet-data-uk', lang: 'uk', view: 'data', signIn: true },
    { name: 'cabinet-withdraw-en', lang: 'en', view: 'consents', signIn: true, withdraw: true },
    { name: 'cabinet-marketing-en', lang: 'en', view: 'consents', signIn: true, optIn: true },
    { name: 'phone-cabinet-marketing-uk', lang: 'uk', view: 'consents', signIn: true, phone: true },
    { name: 'cabinet-requests-en', lang: 'en', view: 'requests', signIn: true },
    { name: 'phone-cabinet-data-ru', lang: 'ru', view: 'data', signIn: true, phone: true },
  ];
  for (const s of cabinet) {
    const context = await browser.newContext({
      viewport: s.phone ? { width: 375, height: 740 } : { width: 1280, height: 860 },
      deviceScaleFactor: 1,
      colorScheme: 'light',
    });
    const page = await context.newPage();
    const url = `${server.url}/cabinet.html?school=${SCHOOL}&lang=${s.lang}`;
    await page.goto(url);
    await timings(page);
    if (s.signIn) {
      const { email } = await makeSubject(server);
      const since = sink.messages.length;
      await page.locator('input[name=email]').fill(email);
      await page.locator('form button[type=submit]').click();
      await page.locator('input[name=code]').waitFor();
      await page.locator('input[name=code]').fill(await mailedCode(server, sink, email, since));
      await page.locator('form button[type=submit]').click();
      await page.locator('nav.cab-nav').waitFor();
      await page.goto(`${url}#${s.view}`);
      await timings(page);
    }
    if (s.optIn) {
      // Opted out, then about to opt back in: the wording shown before anything is recorded.
      await page.locator('.mk-item .actions button.danger').first().click();
      await page.locator('.mk-item[data-state=out]').waitFor();
      await page.locator('.mk-item[data-state=out] .actions button').first().click();
      await page.locator('.mk-wording').waitFor();
      await page.locator('.mk-item').first().scrollIntoViewIfNeeded();
    }
    if (s.withdraw) {
      await page.locator('.withdraw button[type=submit]').click();
      await page.locator('.consequence').waitFor();
      await page.locator('.withdraw').scrollIntoViewIfNeeded();
    }
    const file = join(out, `${s.name}.png`);
    await page.screenshot({ path: file, fullPage: false });
    console.log(`wrote ${file}`);
    await context.close();
  }

  await consoleShots(server, browser);
} finally {
  await browser.close();
  await server.stop();
  await sink.stop();
}

// The staff console: a school with a few requests in different states.
async function consoleShots(server, browser) {
  const admin = await staffSession(server, SCHOOL);
  const api = (path) => `/v1/schools/${SCHOOL}${path}`;
  const subjects = [];
  for (const [name, email] of [['Olena', 'olena@example.com'], ['Taras', 'taras@example.com'], ['Iryna', 'iryna@example.com']]) {
    const r = await fetch(`${server.url}${api('/forms/payment/submissions')}`, {
      method: 'POST', headers: { 'Content-Type': 'application/json' },
      body: JSON.stringify({ fields: { first_name: name, email, mobile_phone: '+380671234567', purchased_service: 'Course', purchase_amount: '1200' },
        consents: ['pd_consent'], accept_policy: true, age_statement: 'adult' }),
    });
    subjects.push((await r.json()).subject);
  }
  const file = async (body) => (await admin.post(api('/requests'), { channel: 'email', ...body })).body.id;
  await file({ type: 'access', subject: subjects[0], received_at: '2025-01-27T08:00:00Z' });
  const access = await file({ type: 'access', subject: subjects[0], received_at: '2025-02-17T08:00:00Z' });
  const rect = await file({ type: 'rectification', subject: subjects[1], fields: ['mobile_phone'] });
  await file({ type: 'objection', subject: subjects[2], purposes: ['marketing_mailing'] });
  await file({ type: 'erasure', subject: subjects[2], ground: 'not_necessary', received_at: '2025-02-26T08:00:00Z' });
  await admin.post(api(`/requests/${access}/assign`), { staff: admin.staff });
  await admin.post(api(`/requests/${rect}/comments`), { text: 'The subject will send a copy of the SIM contract.' });
  await admin.post(api('/subjects/' + subjects[2] + '/consents/withdraw'), { channel: 'email', purposes: ['marketing_mailing'] });
  await admin.post(api('/jobs/deadlines/run'));

  const shots = [
    { name: 'console-signin-uk', path: '/console.html?lang=uk', signedOut: true },
    { name: 'console-queue-en', path: '/console.html?lang=en#/requests' },
    { name: 'console-request-uk', path: `/console.html?lang=uk#/requests/${rect}` },
    { name: 'console-audit-en', path: '/console.html?lang=en#/audit' },
    { name: 'console-consents-en', path: '/console.html?lang=en#/consents' },
    { name: 'console-subjects-en', path: '/console.html?lang=en#/subjects', search: { purpose: 'marketing_mailing', email: 'taras@example.com' } },
    { name: 'phone-console-subjects-uk', path: '/console.html?lang=uk#/subjects', phone: true, search: { purpose: 'identification', email: 'olena@example.com' } },
    { name: 'console-staff-ru', path: '/console.html?lang=ru#/staff' },
    { name: 'phone-console-queue-uk', path: '/console.html?lang=uk#/requests', phone: true },
  ];
  for (const s of shots) {
    const context = await browser.newContext({
      viewport: s.phone ? { width: 375, height: 740 } : { width: 1280, height: 860 },
      deviceScaleFactor: 1,
      colorScheme: 'light',
    });
    const page = await context.newPage();
    if (!s.signedOut) {
      await page.goto(`${server.url}/console.html?lang=en`);
      await timings(page);
      await page.getByLabel('E-mail address').fill(ADMIN);
      await page.getByLabel('Password').fill(admin.password);
      await page.getByLabel('Code from the authenticator app').fill(await totpNow(server, admin.secret));
      await page.getByRole('button', { name: 'Sign in' }).click();
      await page.locator('nav.views').waitFor();
      await page.goto('about:blank');
    }
    await page.goto(server.url + s.path);
    await timings(page);
    if (s.search) {
      await page.locator('select[name=purpose]').selectOption(s.search.purpose);
      await page.locator('input[name=value]').fill(s.search.email);
      await page.locator('form.subject-search button[type=submit]').click();
      await page.locator('.search-result:not([hidden])').waitFor();
      await page.locator('.search-result').scrollIntoViewIfNeeded();
    }
    const file = join(out, `${s.name}.png`);
    await page.screenshot({ path: file, fullPage: false });
    console.log(`wrote ${file}`);
    await context.close();
  }
}
