/**
 * identifyService against real sockets on 127.0.0.1: hostile servers (endless, slow, garbage,
 * reset, silent, endless headers, oversized certificates) must cost bounded time and memory and
 * still yield a finding; real protocol speakers (a TLS+HTTP server with an openssl-made chain,
 * private redis-servers, the shared PostgreSQL and MariaDB) must be identified.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer as createHttpServer, type Server as HttpServer } from 'node:http';
import { createServer as createHttpsServer } from 'node:https';
import { connect, createServer, type Server, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createServer as createTlsServer } from 'node:tls';
import { promisify } from 'node:util';
import { loadFingerprints } from '#src/discovery/fingerprint.model.js';
import { faviconHash } from '#src/discovery/mmh3.js';
import { identifyService, type ProbeOptions } from '#src/discovery/probe.service.js';
import { freePort } from './helpers/private-engines.js';
import { REPO_ROOT } from './helpers/cli.js';
import { listenTracked, type Listening } from './helpers/listeners.js';

const run = promisify(execFile);
const fingerprints = loadFingerprints();
/** Short waits keep the suite quick; every bound below is checked against these. */
const quick: ProbeOptions = {
  fingerprints,
  connectTimeoutMs: 1000,
  readTimeoutMs: 800,
  idleMs: 200,
  totalTimeoutMs: 4000,
};

/** Starts a server on 127.0.0.1:0 and tracks its sockets so close() ends them all. */
const listen = (server: Server | HttpServer): Promise<Listening> => listenTracked(server);

/** A raw TCP server running `handler` on each connection. */
function tcpServer(handler: (socket: Socket) => void): Promise<Listening> {
  return listen(createServer(handler));
}

async function timed<T>(work: () => Promise<T>): Promise<[T, number]> {
  const started = performance.now();
  const result = await work();
  return [result, performance.now() - started];
}

describe('identifyService against hostile servers', { concurrency: true }, () => {
  it('stops reading an endless banner at maxBytes and keeps memory flat', async () => {
    const chunk = Buffer.alloc(64 * 1024, 0x41);
    let written = 0;
    const server = await tcpServer((socket) => {
      const pump = (): void => {
        while (!socket.destroyed && socket.write(chunk)) written += chunk.length;
      };
      socket.on('drain', pump);
      pump();
    });
    try {
      const before = process.memoryUsage().rss;
      const [finding, ms] = await timed(() =>
        identifyService({ ip: '127.0.0.1', port: server.port }, quick),
      );
      const grown = process.memoryUsage().rss - before;
      assert.ok(ms < 4500, `took ${ms} ms`);
      assert.equal(finding.port, server.port);
      assert.equal(finding.protocol, 'tcp');
      assert.equal(finding.banner, 'A'.repeat(1024));
      assert.ok(grown < 64 * 1024 * 1024, `rss grew ${grown} bytes`);
      // The server could push gigabytes in that time; reading is paused at maxBytes, so it
      // only fills socket buffers.
      assert.ok(written < 128 * 1024 * 1024, `the server wrote ${written} bytes`);
    } finally {
      await server.close();
    }
  });

  it('gives up on a slow-loris banner (1 byte/s) within the time bounds', async () => {
    const server = await tcpServer((socket) => {
      const text = 'SSH-2.0-OpenSSH_9.2p1\r\n';
      let at = 0;
      const timer = setInterval(() => {
        if (at < text.length) socket.write(text[at++]!);
      }, 1000);
      socket.on('close', () => {
        clearInterval(timer);
      });
    });
    try {
      const [finding, ms] = await timed(() =>
        identifyService(
          { ip: '127.0.0.1', port: server.port },
          { ...quick, readTimeoutMs: 1500, idleMs: 1200, totalTimeoutMs: 3000 },
        ),
      );
      assert.ok(ms < 3500, `took ${ms} ms`);
      assert.equal(finding.ip, '127.0.0.1');
      assert.match(finding.banner ?? '', /^S/);
      assert.equal(finding.product, undefined);
    } finally {
      await server.close();
    }
  });

  it('survives binary garbage', async () => {
    const garbage = randomBytes(4096);
    const server = await tcpServer((socket) => {
      socket.end(garbage);
    });
    try {
      const [finding, ms] = await timed(() =>
        identifyService({ ip: '127.0.0.1', port: server.port }, quick),
      );
      assert.ok(ms < 4500, `took ${ms} ms`);
      assert.equal(finding.port, server.port);
      assert.ok((finding.banner ?? '').length <= 1024);
    } finally {
      await server.close();
    }
  });

  it('reports a port that resets every connection with only what it learnt', async () => {
    const server = await tcpServer((socket) => {
      socket.resetAndDestroy();
    });
    try {
      const [finding, ms] = await timed(() =>
        identifyService({ ip: '127.0.0.1', port: server.port }, quick),
      );
      assert.ok(ms < 4500, `took ${ms} ms`);
      assert.deepEqual(finding, { ip: '127.0.0.1', port: server.port, protocol: 'tcp' });
    } finally {
      await server.close();
    }
  });

  it('returns from a silent server within totalTimeoutMs', async () => {
    const server = await tcpServer(() => undefined);
    try {
      const [finding, ms] = await timed(() =>
        identifyService({ ip: '127.0.0.1', port: server.port }, { ...quick, totalTimeoutMs: 2500 }),
      );
      assert.ok(ms >= 2000 && ms < 3000, `took ${ms} ms`);
      assert.deepEqual(finding, { ip: '127.0.0.1', port: server.port, protocol: 'tcp' });
    } finally {
      await server.close();
    }
  });

  it('returns at once when aborted', async () => {
    const server = await tcpServer(() => undefined);
    try {
      const controller = new AbortController();
      setTimeout(() => {
        controller.abort();
      }, 300);
      const [finding, ms] = await timed(() =>
        identifyService(
          { ip: '127.0.0.1', port: server.port },
          { ...quick, signal: controller.signal },
        ),
      );
      assert.ok(ms < 800, `took ${ms} ms`);
      assert.equal(finding.port, server.port);
    } finally {
      await server.close();
    }
  });

  it('shares one caller signal across many concurrent calls without listener warnings', async () => {
    const server = await tcpServer((socket) => {
      socket.write('SSH-2.0-OpenSSH_9.2p1\r\n');
    });
    const warnings: string[] = [];
    const onWarning = (warning: Error): void => {
      if (warning.name === 'MaxListenersExceededWarning') warnings.push(warning.message);
    };
    process.on('warning', onWarning);
    try {
      const controller = new AbortController();
      const findings = await Promise.all(
        Array.from({ length: 50 }, () =>
          identifyService(
            { ip: '127.0.0.1', port: server.port },
            { ...quick, signal: controller.signal },
          ),
        ),
      );
      assert.ok(findings.every((finding) => finding.product === 'OpenSSH'));
      // Warnings are emitted on the next tick.
      await new Promise((resolve) => setImmediate(resolve));
      assert.deepEqual(warnings, []);
    } finally {
      process.off('warning', onWarning);
      await server.close();
    }
  });

  it('reports a closed port quickly', async () => {
    const port = await freePort();
    const [finding, ms] = await timed(() => identifyService({ ip: '127.0.0.1', port }, quick));
    assert.ok(ms < 500, `took ${ms} ms`);
    assert.deepEqual(finding, { ip: '127.0.0.1', port, protocol: 'tcp' });
  });

  it('keeps the status of an HTTP server that sends endless headers', async () => {
    const server = await tcpServer((socket) => {
      socket.once('data', () => {
        socket.write('HTTP/1.1 200 OK\r\nServer: nginx/1.22.1\r\n');
        const line = Buffer.from(`X-Filler: ${'a'.repeat(1000)}\r\n`);
        const pump = (): void => {
          while (!socket.destroyed && socket.write(line));
        };
        socket.on('drain', pump);
        pump();
      });
    });
    try {
      const [finding, ms] = await timed(() =>
        identifyService({ ip: '127.0.0.1', port: server.port }, quick),
      );
      assert.ok(ms < 4500, `took ${ms} ms`);
      assert.equal(finding.service, 'http');
      assert.equal(finding.product, 'nginx');
      assert.equal(finding.http?.status, 200);
      assert.equal(finding.http.server, 'nginx/1.22.1');
    } finally {
      await server.close();
    }
  });
});

// ---------------------------------------------------------------------------------------------
// Certificates made with the openssl CLI

interface Pki {
  readonly dir: string;
  readonly caPem: string;
  readonly leafPem: string;
  readonly leafKey: string;
  readonly hugePem: string;
  readonly hugeKey: string;
}

async function openssl(dir: string, args: string[]): Promise<string> {
  const { stdout } = await run('openssl', args, { cwd: dir, maxBuffer: 16 * 1024 * 1024 });
  return stdout;
}

async function makePki(): Promise<Pki> {
  const dir = mkdtempSync(join(tmpdir(), 'probes-pki-'));
  const ec = ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes'];
  await openssl(dir, [
    'req',
    '-x509',
    ...ec,
    '-keyout',
    'ca.key',
    '-out',
    'ca.crt',
    '-days',
    '30',
    '-subj',
    '/CN=Surfacescan Test CA/O=Surfacescan Test CA',
  ]);
  await openssl(dir, [
    'req',
    ...ec,
    '-keyout',
    'leaf.key',
    '-out',
    'leaf.csr',
    '-subj',
    '/CN=localhost/O=Surfacescan Test',
  ]);
  writeFileSync(join(dir, 'leaf.ext'), 'subjectAltName=DNS:localhost,IP:127.0.0.1\n');
  await openssl(dir, [
    'x509',
    '-req',
    '-in',
    'leaf.csr',
    '-CA',
    'ca.crt',
    '-CAkey',
    'ca.key',
    '-CAcreateserial',
    '-out',
    'leaf.crt',
    '-days',
    '30',
    '-extfile',
    'leaf.ext',
  ]);
  // About 150 KiB of subjectAltName: more than OpenSSL accepts in a handshake by default.
  const names = Array.from({ length: 5000 }, (_, i) => `DNS:host-${i}.a-rather-long-name.example`);
  writeFileSync(join(dir, 'huge.ext'), `subjectAltName=${names.join(',')}\n`);
  await openssl(dir, [
    'req',
    ...ec,
    '-keyout',
    'huge.key',
    '-out',
    'huge.csr',
    '-subj',
    '/CN=huge',
  ]);
  await openssl(dir, [
    'x509',
    '-req',
    '-in',
    'huge.csr',
    '-CA',
    'ca.crt',
    '-CAkey',
    'ca.key',
    '-CAcreateserial',
    '-out',
    'huge.crt',
    '-days',
    '30',
    '-extfile',
    'huge.ext',
  ]);
  const read = (name: string): string => readFileSync(join(dir, name), 'utf8');
  return {
    dir,
    caPem: read('ca.crt'),
    leafPem: read('leaf.crt'),
    leafKey: read('leaf.key'),
    hugePem: read('huge.crt'),
    hugeKey: read('huge.key'),
  };
}

describe('identifyService over TLS', () => {
  let pki: Pki;
  before(async () => {
    pki = await makePki();
  });
  after(() => {
    rmSync(pki.dir, { recursive: true, force: true });
  });

  it('captures the chain, the page and the favicon hash of an HTTPS server', async () => {
    const icon = randomBytes(3000);
    const server = await listen(
      createHttpsServer(
        { key: pki.leafKey, cert: pki.leafPem + pki.caPem },
        (request, response) => {
          if (request.url === '/favicon.ico') {
            response.writeHead(200, { 'content-type': 'image/x-icon' });
            response.end(icon);
            return;
          }
          response.writeHead(200, {
            server: 'nginx/1.22.1',
            'x-powered-by': 'PHP/8.2.7',
            'content-type': 'text/html',
          });
          response.end('<html><head><title>\n  Test   Admin </title></head></html>');
        },
      ),
    );
    try {
      const finding = await identifyService(
        { ip: '127.0.0.1', port: server.port, hostname: 'localhost' },
        quick,
      );
      assert.equal(finding.service, 'https');
      assert.equal(finding.product, 'nginx');
      assert.equal(finding.version, '1.22.1');
      assert.deepEqual(finding.http, {
        status: 200,
        server: 'nginx/1.22.1',
        poweredBy: 'PHP/8.2.7',
        title: 'Test Admin',
        faviconHash: faviconHash(icon),
      });
      const chain = finding.tls?.chain ?? [];
      assert.equal(chain.length, 2);
      const [leaf, ca] = chain;
      assert.ok(leaf !== undefined && ca !== undefined);
      const fingerprint = await openssl(pki.dir, [
        'x509',
        '-in',
        'leaf.crt',
        '-noout',
        '-fingerprint',
        '-sha256',
        '-serial',
      ]);
      const sha256 = /Fingerprint=([0-9A-F:]+)/.exec(fingerprint)?.[1]?.replace(/:/g, '');
      const serial = /serial=([0-9A-F]+)/.exec(fingerprint)?.[1];
      assert.equal(leaf.sha256, sha256?.toLowerCase());
      assert.equal(leaf.serial, serial);
      assert.equal(leaf.subject, 'CN=localhost, O=Surfacescan Test');
      assert.equal(leaf.subjectOrg, 'Surfacescan Test');
      assert.equal(leaf.issuerOrg, 'Surfacescan Test CA');
      assert.deepEqual(leaf.sans, ['localhost', '127.0.0.1']);
      assert.equal(leaf.selfSigned, false);
      assert.equal(leaf.keyType, 'ec');
      assert.equal(leaf.keyBits, 256);
      assert.match(leaf.validFrom, /^\d{4}-\d\d-\d\dT/);
      assert.ok(Date.parse(leaf.validTo) > Date.now() + 29 * 86_400_000);
      assert.equal(ca.selfSigned, true);
      assert.match(finding.tls?.protocol ?? '', /^TLSv1\.[23]$/);
    } finally {
      await server.close();
    }
  });

  it('moves on to TLS when plain HTTP is told the port speaks HTTPS', async () => {
    // One port, two protocols, like nginx's "listen 443 ssl" answering plain HTTP with a 400.
    const tlsSide = createHttpsServer(
      { key: pki.leafKey, cert: pki.leafPem + pki.caPem },
      (_, response) => {
        response.writeHead(200, { server: 'Apache/2.4.57 (Debian)', 'content-type': 'text/html' });
        response.end('<title>Secure</title>');
      },
    );
    tlsSide.on('tlsClientError', () => undefined);
    const server = await tcpServer((socket) => {
      socket.once('data', (first: Buffer) => {
        if (first[0] === 0x16) {
          socket.pause();
          socket.unshift(first);
          tlsSide.emit('connection', socket);
          return;
        }
        socket.end(
          'HTTP/1.1 400 Bad Request\r\nServer: nginx\r\nContent-Type: text/html\r\n\r\n' +
            '<title>400 The plain HTTP request was sent to HTTPS port</title>',
        );
      });
    });
    try {
      const finding = await identifyService({ ip: '127.0.0.1', port: server.port }, quick);
      assert.equal(finding.service, 'https');
      assert.equal(finding.product, 'Apache httpd');
      assert.equal(finding.version, '2.4.57');
      assert.equal(finding.extra?.info, 'Debian');
      assert.equal(finding.http?.title, 'Secure');
      assert.equal(finding.tls?.chain.length, 2);
    } finally {
      await server.close();
      tlsSide.close();
    }
  });

  it('keeps at most maxChain certificates and none above maxCertBytes', async () => {
    const server = await listen(
      createTlsServer({ key: pki.leafKey, cert: pki.leafPem + pki.caPem }, (socket) => {
        socket.on('error', () => undefined);
        socket.once('data', () => {
          socket.end('HTTP/1.1 200 OK\r\nServer: lighttpd/1.4.69\r\nContent-Length: 0\r\n\r\n');
        });
      }),
    );
    try {
      const target = { ip: '127.0.0.1', port: server.port };
      const short = await identifyService(target, {
        ...quick,
        tlsLimits: { maxChain: 1, maxCertBytes: 64 * 1024 },
      });
      assert.equal(short.tls?.chain.length, 1);
      assert.equal(short.tls.chain[0]?.subject, 'CN=localhost, O=Surfacescan Test');
      assert.equal(short.service, 'https');
      assert.equal(short.product, 'lighttpd');
      const small = await identifyService(target, {
        ...quick,
        tlsLimits: { maxChain: 10, maxCertBytes: 100 },
      });
      assert.deepEqual(small.tls?.chain, []);
      assert.equal(small.product, 'lighttpd');
    } finally {
      await server.close();
    }
  });

  it('copes with an oversized certificate within the time bound', async () => {
    assert.ok(pki.hugePem.length > 150 * 1024, `certificate is ${pki.hugePem.length} bytes`);
    const server = await listen(
      createTlsServer({ key: pki.hugeKey, cert: pki.hugePem }, (socket) => {
        socket.on('error', () => undefined);
        socket.end('HTTP/1.1 200 OK\r\n\r\n');
      }),
    );
    try {
      const before = process.memoryUsage().rss;
      const [finding, ms] = await timed(() =>
        identifyService({ ip: '127.0.0.1', port: server.port }, quick),
      );
      assert.ok(ms < 4500, `took ${ms} ms`);
      assert.equal(finding.port, server.port);
      // Either the handshake is refused (OpenSSL's certificate list limit) or the certificate
      // is too large to parse: no certificate of that size is ever kept.
      for (const cert of finding.tls?.chain ?? []) assert.ok(cert.sans.length <= 200);
      assert.ok(process.memoryUsage().rss - before < 64 * 1024 * 1024);
    } finally {
      await server.close();
    }
  });
});

// ---------------------------------------------------------------------------------------------
// Real and fake protocol speakers

describe('identifyService against protocol speakers', { concurrency: true }, () => {
  const banner = (text: string | Buffer, onData?: (socket: Socket, data: Buffer) => void) =>
    tcpServer((socket) => {
      socket.write(text);
      if (onData)
        socket.on('data', (data: Buffer) => {
          onData(socket, data);
        });
    });

  const cases: [
    string,
    () => Promise<Listening>,
    Record<string, unknown>,
    Partial<ProbeOptions>?,
  ][] = [
    [
      'OpenSSH on Debian',
      () => banner('SSH-2.0-OpenSSH_9.2p1 Debian-2+deb12u3\r\n'),
      { service: 'ssh', product: 'OpenSSH', version: '9.2p1' },
    ],
    [
      'vsftpd',
      () => banner('220 (vsFTPd 3.0.3)\r\n'),
      { service: 'ftp', product: 'vsftpd', version: '3.0.3' },
    ],
    [
      'Postfix',
      () =>
        banner('220 mx.test ESMTP Postfix (Debian/GNU)\r\n', (socket, data) => {
          if (data.toString().startsWith('EHLO')) socket.write('250-mx.test\r\n250 STARTTLS\r\n');
        }),
      { service: 'smtp', product: 'Postfix smtpd' },
    ],
    ['rsyncd', () => banner('@RSYNCD: 31.0\n'), { service: 'rsync', product: 'rsync' }],
    [
      'RabbitMQ (its Connection.Start, as captured from a real RabbitMQ 3.10.8)',
      () =>
        tcpServer((socket) => {
          socket.on('data', (data: Buffer) => {
            if (data.equals(Buffer.from('AMQP\x00\x00\x09\x01', 'latin1')))
              socket.write(
                readFileSync(
                  join(REPO_ROOT, 'test/fixtures/probes/rabbitmq-3.10.8-connection-start.bin'),
                ),
              );
            else socket.end('AMQP\x00\x00\x09\x01');
          });
        }),
      { service: 'amqp', product: 'RabbitMQ', version: '3.10.8' },
    ],
    [
      'Mosquitto letting anyone in (bytes as a real Mosquitto 2.0.11 answers)',
      () =>
        tcpServer((socket) => {
          socket.once('data', (data: Buffer) => {
            // Like the real one, it hangs up on anything that is not an MQTT CONNECT.
            if (data.subarray(4, 8).toString('latin1') !== 'MQTT') {
              socket.destroy();
              return;
            }
            const topic = '$SYS/broker/version';
            const version = 'mosquitto version 2.0.11';
            socket.write(
              Buffer.concat([
                Buffer.from([0x20, 0x02, 0x00, 0x00, 0x90, 0x03, 0x00, 0x01, 0x00]),
                Buffer.from([0x31, 2 + topic.length + version.length, 0x00, topic.length]),
                Buffer.from(topic + version, 'latin1'),
              ]),
            );
          });
        }),
      {
        service: 'mqtt',
        product: 'Eclipse Mosquitto',
        version: '2.0.11',
        extra: { info: 'anonymous access' },
      },
      // Last in the default order (no port hint on a random port): more time.
      { totalTimeoutMs: 10_000 },
    ],
    [
      'an MQTT broker that wants credentials',
      () =>
        tcpServer((socket) => {
          socket.once('data', (data: Buffer) => {
            if (data.subarray(4, 8).toString('latin1') === 'MQTT')
              socket.end(Buffer.from([0x20, 0x02, 0x00, 0x05]));
            else socket.destroy();
          });
        }),
      { service: 'mqtt', extra: { info: 'authentication required' } },
      // Last in the default order (no port hint on a random port): more time.
      { totalTimeoutMs: 10_000 },
    ],
    [
      'epmd (the NAMES answer of a real epmd with a RabbitMQ node)',
      () =>
        tcpServer((socket) => {
          socket.once('data', (data: Buffer) => {
            if (data.equals(Buffer.from([0x00, 0x01, 0x6e])))
              socket.end(
                Buffer.concat([
                  Buffer.from([0x00, 0x00, 0x11, 0x11]),
                  Buffer.from('name rabbit at port 25672\n', 'latin1'),
                ]),
              );
            else socket.destroy();
          });
        }),
      {
        service: 'epmd',
        product: 'Erlang Port Mapper Daemon',
        extra: { info: 'node rabbit at port 25672' },
      },
      // Last in the default order (no port hint on a random port): more time.
      { totalTimeoutMs: 10_000 },
    ],
    [
      'NATS (its INFO greeting; nmap 7.93 does not name it)',
      () =>
        banner(
          'INFO {"server_id":"NBG2","server_name":"NBG2","version":"2.9.10","proto":1,' +
            '"go":"go1.19.8","host":"0.0.0.0","port":4222,"headers":true} \r\n',
        ),
      { service: 'nats', product: 'NATS server', version: '2.9.10' },
    ],
    [
      'a busybox-style telnetd',
      () =>
        banner(
          Buffer.from([0xff, 0xfd, 0x01, 0xff, 0xfd, 0x1f, 0xff, 0xfb, 0x01, 0xff, 0xfb, 0x03]),
        ),
      { service: 'telnet' },
    ],
    [
      'memcached',
      () =>
        tcpServer((socket) => {
          socket.on('data', (data: Buffer) => {
            if (data.toString() === 'version\r\n') socket.write('VERSION 1.6.18\r\n');
            else socket.write('ERROR\r\n');
          });
        }),
      { service: 'memcached', product: 'Memcached', version: '1.6.18' },
    ],
    [
      'Elasticsearch',
      () =>
        listen(
          createHttpServer((_, response) => {
            response.writeHead(200, { 'content-type': 'application/json' });
            response.end(
              JSON.stringify(
                { name: 'n1', version: { number: '8.11.1' }, tagline: 'You Know, for Search' },
                null,
                2,
              ),
            );
          }),
        ),
      { service: 'elasticsearch', product: 'Elasticsearch REST API', version: '8.11.1' },
    ],
    [
      'MongoDB (a fake that checks both queries are well framed)',
      () =>
        tcpServer((socket) => {
          socket.once('data', (data: Buffer) => {
            // Two OP_QUERY messages whose length fields add up to what was sent.
            const first = data.length >= 16 ? data.readInt32LE(0) : -1;
            const second = first > 0 && first + 4 <= data.length ? data.readInt32LE(first) : -1;
            if (second < 0 || first + second !== data.length || data.readInt32LE(12) !== 2004) {
              socket.destroy();
              return;
            }
            const reply = (responseTo: number, doc: Buffer): Buffer => {
              const header = Buffer.alloc(36);
              header.writeInt32LE(36 + doc.length, 0);
              header.writeInt32LE(responseTo, 8);
              header.writeInt32LE(1, 12);
              header.writeInt32LE(1, 32);
              return Buffer.concat([header, doc]);
            };
            // {ok: 1.0} and {version: "7.0.2", ok: 1.0} as BSON.
            const ok = Buffer.from('11000000016f6b00000000000000f03f00', 'hex');
            const version = Buffer.from(
              '210000000276657273696f6e0006000000372e302e3200016f6b00000000000000f03f00',
              'hex',
            );
            socket.write(Buffer.concat([reply(1, ok), reply(2, version)]));
          });
        }),
      { service: 'mongodb', product: 'MongoDB', version: '7.0.2' },
    ],
    [
      'RDP with NLA (a fake that checks the X.224 request)',
      () =>
        tcpServer((socket) => {
          socket.once('data', (data: Buffer) => {
            if (
              data.length < 11 ||
              data[0] !== 3 ||
              data.readUInt16BE(2) !== data.length ||
              data[5] !== 0xe0
            ) {
              socket.destroy();
              return;
            }
            socket.write(
              Buffer.from('0300001302d00000123400020f080002000000', 'hex').subarray(0, 19),
            );
          });
        }),
      { service: 'ms-wbt-server', extra: { rdpSecurity: 'nla', info: 'security=nla' } },
    ],
    [
      'SMB2 (a fake that checks the NetBIOS length of the negotiate request)',
      () =>
        tcpServer((socket) => {
          socket.once('data', (data: Buffer) => {
            if (
              data.length < 8 ||
              data.readUInt32BE(0) !== data.length - 4 ||
              data.toString('latin1', 4, 8) !== '\xffSMB'
            ) {
              socket.destroy();
              return;
            }
            const answer = Buffer.alloc(4 + 64 + 65);
            answer.writeUInt32BE(64 + 65, 0);
            answer.write('\xfeSMB', 4, 'latin1');
            answer.writeUInt16LE(65, 68);
            answer.writeUInt16LE(0x02ff, 72);
            socket.write(answer);
          });
        }),
      { service: 'microsoft-ds', extra: { info: 'version=2 dialect=0x02ff' } },
    ],
  ];
  for (const [name, start, expected, options] of cases) {
    it(`identifies ${name}`, async () => {
      const server = await start();
      try {
        const finding = await identifyService(
          { ip: '127.0.0.1', port: server.port },
          { ...quick, ...options },
        );
        for (const [key, value] of Object.entries(expected))
          assert.deepEqual(
            finding[key as keyof typeof finding],
            value,
            `${key}: ${JSON.stringify(finding)}`,
          );
      } finally {
        await server.close();
      }
    });
  }
});

async function startRedis(extra: string[]): Promise<{ port: number; child: ChildProcess }> {
  const port = await freePort();
  const child = spawn(
    'redis-server',
    [
      '--port',
      String(port),
      '--bind',
      '127.0.0.1',
      '--save',
      '',
      '--appendonly',
      'no',
      '--dir',
      tmpdir(),
      ...extra,
    ],
    { stdio: 'ignore' },
  );
  const deadline = Date.now() + 10_000;
  for (;;) {
    const up = await new Promise<boolean>((resolve) => {
      const socket = connect({ host: '127.0.0.1', port });
      socket.once('connect', () => {
        socket.destroy();
        resolve(true);
      });
      socket.once('error', () => {
        resolve(false);
      });
    });
    if (up) return { port, child };
    if (Date.now() > deadline) {
      child.kill();
      throw new Error('redis-server did not start');
    }
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

describe('identifyService against real servers', { concurrency: true }, () => {
  it('identifies an open redis-server with its version and no auth', async () => {
    const { port, child } = await startRedis([]);
    try {
      const { stdout } = await run('redis-server', ['--version']);
      const version = /v=([\d.]+)/.exec(stdout)?.[1];
      const finding = await identifyService({ ip: '127.0.0.1', port }, quick);
      assert.equal(finding.service, 'redis');
      assert.equal(finding.product, 'Redis key-value store');
      assert.equal(finding.version, version);
      assert.equal(finding.extra?.auth, 'none');
    } finally {
      child.kill();
    }
  });

  it('identifies a redis-server that requires a password', async () => {
    const { port, child } = await startRedis(['--requirepass', 'x']);
    try {
      const finding = await identifyService({ ip: '127.0.0.1', port }, quick);
      assert.equal(finding.service, 'redis');
      assert.equal(finding.version, undefined);
      assert.equal(finding.extra?.auth, 'required');
    } finally {
      child.kill();
    }
  });

  const postgres = process.env.SURFACESCAN_TEST_POSTGRES_URL;
  it(
    'identifies the PostgreSQL server',
    { skip: postgres === undefined ? 'SURFACESCAN_TEST_POSTGRES_URL is not set' : false },
    async () => {
      const url = new URL(postgres!);
      const finding = await identifyService(
        { ip: url.hostname, port: Number(url.port || 5432) },
        quick,
      );
      assert.equal(finding.service, 'postgresql');
      assert.equal(finding.product, 'PostgreSQL DB');
    },
  );

  const mariadb = process.env.SURFACESCAN_TEST_MARIADB;
  it(
    'identifies the MariaDB server with its version',
    { skip: mariadb === undefined ? 'SURFACESCAN_TEST_MARIADB (host:port) is not set' : false },
    async () => {
      const [host = '127.0.0.1', port = '3306'] = mariadb!.split(':');
      const finding = await identifyService({ ip: host, port: Number(port) }, quick);
      assert.equal(finding.service, 'mysql');
      assert.equal(finding.product, 'MariaDB');
      assert.match(finding.version ?? '', /^\d+\.\d+\.\d+$/);
    },
  );
});
