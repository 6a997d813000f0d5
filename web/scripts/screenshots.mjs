// PNGs of the main public pages for docs/screenshots/ (make screenshots): the real server on a
// fresh data directory, Debian's Chromium, desktop and phone widths.
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { launch, REPO, SCHOOL, startServer, timings } from '../tests/harness.mjs';

const out = join(REPO, 'docs/screenshots');
mkdirSync(out, { recursive: true });
const server = await startServer();
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
} finally {
  await browser.close();
  await server.stop();
}
