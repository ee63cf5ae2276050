/**
 * The web console's build (`vite build`, part of `npm run build`): the single-page app in `src/ui/` bundled into
 * `dist/ui/`, which the gateway serves at `/ui/`. Hashed file names (the gateway caches them for a year), no
 * inline script (the console's Content-Security-Policy allows none), nothing loaded from elsewhere at run time.
 */
import { fileURLToPath } from 'node:url';
import react from '@vitejs/plugin-react';
import { defineConfig } from 'vite';

const ui = fileURLToPath(new URL('./src/ui/', import.meta.url));

export default defineConfig({
  root: ui,
  base: '/ui/',
  plugins: [react()],
  publicDir: false,
  build: {
    outDir: fileURLToPath(new URL('./dist/ui/', import.meta.url)),
    emptyOutDir: true,
    assetsDir: 'assets',
    // Small assets as files too: a `data:` script or font would need a looser policy.
    assetsInlineLimit: 0,
    // The polyfill would be an inline script; every browser the console supports preloads modules itself.
    modulePreload: { polyfill: false },
    sourcemap: false,
    target: 'es2022',
    chunkSizeWarningLimit: 1024,
  },
});
