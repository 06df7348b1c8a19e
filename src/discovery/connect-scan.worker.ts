/**
 * One thread of connectScanThreads: runs connectScan on its slice with its share of the rate,
 * reports progress and open ports to the parent as it goes, and stops when told to.
 */
import { parentPort, workerData } from 'node:worker_threads';
import { connectScan, RateLimiter } from '#src/discovery/connect-scan.js';
import type { ThreadSlice, ThreadMessage } from '#src/discovery/connect-scan.threads.js';

const slice = workerData as ThreadSlice;
const port = parentPort!;
const controller = new AbortController();
port.on('message', (message: unknown) => {
  if (message === 'abort') controller.abort();
});
const post = (message: ThreadMessage): void => {
  port.postMessage(message);
};
const result = await connectScan({
  ...slice,
  limiter: new RateLimiter(slice.rate),
  signal: controller.signal,
  onOpen: (ip, openPort) => {
    post({ kind: 'open', ip, port: openPort });
  },
  onProgress: (done) => {
    post({ kind: 'progress', done });
  },
});
post({ kind: 'done', result });
port.close();
