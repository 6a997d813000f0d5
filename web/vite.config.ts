// The public pages and the staff console (multi-page build into dist/). The embeddable scripts (banner.js, form.js) are
// built separately by vite.embed.config.ts, each into one self-contained file.
import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { defineConfig } from 'vite';

const root = dirname(fileURLToPath(import.meta.url));  // Node 18 has no import.meta.dirname

export default defineConfig({
  base: '/',
  build: {
    outDir: 'dist',
    emptyOutDir: true,
    target: 'es2020',
    rollupOptions: {
      input: {
        index: resolve(root, 'index.html'),
        notice: resolve(root, 'notice.html'),
        demo: resolve(root, 'demo-school.html'),
        cabinet: resolve(root, 'cabinet.html'),
        console: resolve(root, 'console.html'),
        confirm: resolve(root, 'confirm.html'),
      },
    },
  },
});
