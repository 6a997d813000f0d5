// PNGs of the main public pages for docs/screenshots/ (make screenshots): the real server on a
// fresh data directory, Debian's Chromium, desktop and phone widths.
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { makeSubject, mailedCode } from '../tests/cabinet.mjs';
import { launch, REPO, SCHOOL, startServer, timings } from '../tests/harness.mjs';
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
} finally {
  await browser.close();
  await server.stop();
  await sink.stop();
}
