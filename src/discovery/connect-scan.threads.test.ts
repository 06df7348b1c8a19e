import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:net';
import { connectScanThreads } from '#src/discovery/connect-scan.threads.js';

const servers: Server[] = [];
let openPorts: number[] = [];

async function listen(): Promise<number> {
  const server = createServer((socket) => {
    socket.on('error', () => undefined);
    socket.resume();
    socket.end();
  });
  servers.push(server);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return (server.address() as { port: number }).port;
}

before(async () => {
  openPorts = [await listen(), await listen(), await listen(), await listen()];
});
after(() => {
  for (const s of servers) s.close();
});

/** 20,000 ports around the listeners: enough for the slice to be split across threads. */
const portsAround = (): number[] => {
  const low = Math.max(1, Math.min(...openPorts) - 10_000);
  const ports = Array.from({ length: 20_000 }, (_, i) => low + i).filter((p) => p <= 65_535);
  for (const p of openPorts) if (!ports.includes(p)) ports.push(p);
  return ports;
};

describe('connect scan across threads', () => {
  it('finds exactly the open ports, reports every probe once and keeps to the rate', async () => {
    const ports = portsAround();
    const opened: number[] = [];
    let lastProgress = 0;
    const started = performance.now();
    const result = await connectScanThreads({
      hosts: ['127.0.0.1'],
      ports,
      seed: 11,
      start: 0,
      end: ports.length,
      rate: 40_000,
      threads: 2,
      concurrency: 512,
      timeoutMs: 1500,
      retries: 0,
      onOpen: (_ip, port) => opened.push(port),
      onProgress: (done) => {
        lastProgress = done;
      },
    });
    const seconds = (performance.now() - started) / 1000;
    const found = result.open.map((o) => o.port);
    for (const p of openPorts) assert.ok(found.includes(p), `port ${String(p)} not found`);
    assert.deepEqual([...opened].sort(), [...found].sort());
    assert.equal(result.done, ports.length);
    assert.equal(result.closed + result.filtered + result.open.length, ports.length);
    assert.equal(lastProgress, ports.length);
    assert.equal(result.aborted, false);
    // Two threads at 20,000/s each: the whole slice cannot take less than its rate allows.
    assert.ok(
      seconds >= (ports.length / 40_000) * 0.9,
      `too fast for the rate: ${String(seconds)} s`,
    );
  });

  it('stops every thread when aborted, and says so', async () => {
    const ports = portsAround();
    const controller = new AbortController();
    setTimeout(() => {
      controller.abort();
    }, 300);
    const result = await connectScanThreads({
      hosts: ['127.0.0.1'],
      ports,
      seed: 11,
      start: 0,
      end: ports.length,
      rate: 2_000,
      threads: 2,
      concurrency: 64,
      timeoutMs: 1500,
      retries: 0,
      signal: controller.signal,
    });
    assert.equal(result.aborted, true);
    assert.ok(result.done < ports.length);
  });
});
