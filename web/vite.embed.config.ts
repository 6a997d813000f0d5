// One embeddable script per build, as a single IIFE file a school puts on its own site:
//   vite build -c vite.embed.config.ts --mode banner   → dist/banner.js
//   vite build -c vite.embed.config.ts --mode form     → dist/form.js
import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { defineConfig } from 'vite';

const root = dirname(fileURLToPath(import.meta.url));  // Node 18 has no import.meta.dirname
const entries: Record<string, { entry: string; name: string }> = {
  banner: { entry: 'src/banner/banner.ts', name: 'DoviraCookieBanner' },
  form: { entry: 'src/form/form.ts', name: 'DoviraForm' },
};

export default defineConfig(({ mode }) => {
  const e = entries[mode];
  if (!e) throw new Error(`--mode must be one of ${Object.keys(entries).join(', ')}`);
  return {
    publicDir: false,
    build: {
      outDir: 'dist',
      emptyOutDir: false,
      target: 'es2020',
      lib: {
        entry: resolve(root, e.entry),
        name: e.name,
        formats: ['iife'],
        fileName: () => `${mode}.js`,
      },
    },
  };
});
