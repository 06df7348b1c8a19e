import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { createServer, type Server } from 'node:net';
import { connectScan, RateLimiter } from '#src/discovery/connect-scan.js';
import { defaultConnector, socketConnector } from '#src/discovery/tcp-connect.js';

const servers: Server[] = [];
let openPorts: number[] = [];
let closedPort = 0;
let stuckPort = 0;
let stuck: ChildProcess | undefined;

async function listen(): Promise<number> {
  const server = createServer((socket) => {
    socket.on('error', () => undefined);
    socket.end();
  });
  servers.push(server);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return (server.address() as { port: number }).port;
}

before(async () => {
  openPorts = [await listen(), await listen(), await listen()];
  const probe = createServer();
  await new Promise<void>((resolve) => probe.listen(0, '127.0.0.1', resolve));
  closedPort = (probe.address() as { port: number }).port;
  await new Promise((resolve) => probe.close(resolve));
  // A listener that never accepts, with its accept queue filled: Linux then drops new SYNs,
  // which is what a firewall's silent drop looks like to a connect scan.
  stuck = spawn('python3', [
    '-c',
    [
      'import socket, sys, time',
      's = socket.socket(); s.bind(("127.0.0.1", 0)); s.listen(0)',
      'port = s.getsockname()[1]',
      'fillers = []',
      'for _ in range(4):',
      '  c = socket.socket(); c.setblocking(False)',
      '  try: c.connect(("127.0.0.1", port))',
      '  except BlockingIOError: pass',
      '  fillers.append(c)',
      'time.sleep(0.3); print(port, flush=True); time.sleep(120)',
    ].join('\n'),
  ]);
  stuckPort = await new Promise<number>((resolve) => {
    stuck!.stdout!.once('data', (chunk: Buffer) => {
      resolve(Number(chunk.toString().trim()));
    });
  });
});

after(() => {
  for (const s of servers) s.close();
  stuck?.kill();
});

describe('connect scan on loopback', () => {
  for (const [name, connector] of [
    ['the libuv handle connector', defaultConnector()],
    ['the net.Socket connector', socketConnector],
  ] as const) {
    it(`finds open ports and only them (${name})`, async () => {
      const ports = [...openPorts, closedPort].sort((a, b) => a - b);
      const result = await connectScan({
        hosts: ['127.0.0.1'],
        ports,
        seed: 1,
        start: 0,
        end: ports.length,
        limiter: new RateLimiter(10_000),
        concurrency: 64,
        timeoutMs: 1000,
        retries: 0,
        connector,
      });
      assert.deepEqual(
        result.open.map((o) => o.port).sort((a, b) => a - b),
        [...openPorts].sort((a, b) => a - b),
      );
      assert.equal(result.closed, 1);
      assert.equal(result.done, ports.length);
    });
  }

  it('counts a port that drops SYNs as filtered, after its retries', async () => {
    const started = performance.now();
    const result = await connectScan({
      hosts: ['127.0.0.1'],
      ports: [stuckPort],
      seed: 1,
      start: 0,
      end: 1,
      limiter: new RateLimiter(1000),
      concurrency: 4,
      timeoutMs: 200,
      retries: 2,
    });
    assert.equal(result.filtered, 1);
    assert.ok(performance.now() - started >= 550, 'three tries of 200 ms each');
  });

  it('keeps to its rate', async () => {
    const ports = Array.from({ length: 150 }, (_, i) => 40_000 + i);
    const started = performance.now();
    const result = await connectScan({
      hosts: ['127.0.0.1'],
      ports,
      seed: 3,
      start: 0,
      end: ports.length,
      limiter: new RateLimiter(100, 1),
      concurrency: 64,
      timeoutMs: 1000,
      retries: 0,
    });
    const seconds = (performance.now() - started) / 1000;
    assert.equal(result.done, 150);
    assert.ok(seconds >= 1.4, `150 probes at 100/s took ${seconds.toFixed(2)} s`);
  });

  it('stops at once when aborted, reporting what it did', async () => {
    const controller = new AbortController();
    setTimeout(() => {
      controller.abort();
    }, 200);
    const result = await connectScan({
      hosts: ['127.0.0.1'],
      ports: Array.from({ length: 5000 }, (_, i) => 30_000 + i),
      seed: 5,
      start: 0,
      end: 5000,
      limiter: new RateLimiter(500, 1),
      concurrency: 16,
      timeoutMs: 1000,
      retries: 0,
      signal: controller.signal,
    });
    assert.equal(result.aborted, true);
    assert.ok(result.done < 5000);
  });

  it('splits a scan into slices that together probe every pair exactly once', async () => {
    const ports = Array.from({ length: 300 }, (_, i) => 20_000 + i).concat(openPorts);
    const hosts = ['127.0.0.1', '127.0.0.2'];
    const total = hosts.length * ports.length;
    let opened = 0;
    let done = 0;
    for (let start = 0; start < total; start += 97) {
      const r = await connectScan({
        hosts,
        ports,
        seed: 9,
        start,
        end: Math.min(total, start + 97),
        limiter: new RateLimiter(100_000),
        concurrency: 64,
        timeoutMs: 1000,
        retries: 0,
      });
      opened += r.open.length;
      done += r.done;
    }
    assert.equal(done, total);
    // The listeners are bound to 127.0.0.1 only.
    assert.equal(opened, openPorts.length);
  });
});
