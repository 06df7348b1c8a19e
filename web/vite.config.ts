/** Vite build of the web UI: web/ is the root, the output goes to web/dist (served by Fastify). */
import { defineConfig } from 'vite';
import react from '@vitejs/plugin-react';

export default defineConfig({
  root: import.meta.dirname,
  plugins: [react()],
  build: {
    outDir: 'dist',
    emptyOutDir: true,
    // ECharts and Cytoscape are large by nature; they load only with the pages that use them.
    chunkSizeWarningLimit: 1200,
  },
  server: {
    // `npm run dev:web` proxies the API to a server started with `npm start`.
    proxy: { '/api': 'http://127.0.0.1:8001' },
  },
});
