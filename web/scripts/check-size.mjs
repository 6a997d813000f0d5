// Fails the build when the cookie banner grows past its budget (10 KB gzipped): it loads on every
// page of a school's site. Prints the sizes of both embeddable scripts.
import { readFileSync } from 'node:fs';
import { gzipSync } from 'node:zlib';

const BUDGET = 10 * 1024;
const dist = new URL('../dist/', import.meta.url);
let failed = false;
for (const [file, budget] of [['banner.js', BUDGET], ['form.js', null]]) {
  const raw = readFileSync(new URL(file, dist));
  const gz = gzipSync(raw, { level: 9 }).length;
  const line = `${file}: ${raw.length} bytes, ${gz} bytes gzipped` + (budget ? ` (budget ${budget})` : '');
  console.log(line);
  if (budget && gz > budget) {
    console.error(`${file} is over its budget of ${budget} bytes gzipped`);
    failed = true;
  }
}
process.exit(failed ? 1 : 0);
