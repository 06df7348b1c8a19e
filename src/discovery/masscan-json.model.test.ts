import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { parseMasscanJson } from '#src/discovery/masscan-json.model.js';
import { ImportFormatError } from '#src/discovery/import-result.model.js';

const FIXTURES = new URL('../../../test/fixtures/imports/', import.meta.url);
const fixture = (name: string): string => readFileSync(new URL(name, FIXTURES), 'utf8');

/** masscan -oJ output (1.0 style: comma after every record, then {finished: 1}). */
function bigMasscanJson(hosts: number, portsPerHost: number): string {
  const lines = ['['];
  for (let h = 0; h < hosts; h++) {
    const ip = `10.1.${String(h >> 8)}.${String(h & 255)}`;
    for (let p = 1; p <= portsPerHost; p++) {
      lines.push(
        `{   "ip": "${ip}",   "timestamp": "${String(1795514400 + h)}", "ports": [ {"port": ${String(p)}, "proto": "tcp", "status": "open", "reason": "syn-ack", "ttl": 54} ] },`,
      );
    }
  }
  lines.push('{finished: 1}', ']', '');
  return lines.join('\n');
}

function rejects(text: string, pattern: RegExp): ImportFormatError {
  let caught: unknown;
  try {
    parseMasscanJson(text);
  } catch (error) {
    caught = error;
  }
  assert.ok(
    caught instanceof ImportFormatError,
    `expected ImportFormatError, got ${String(caught)}`,
  );
  assert.match(caught.message, pattern);
  assert.ok(!caught.message.includes('\n'), 'the message is one line');
  return caught;
}

describe('masscan JSON import', () => {
  it('reads the trailing comma and {finished: 1} quirks, keeping open TCP ports only', () => {
    const result = parseMasscanJson(fixture('masscan-full.json'));
    assert.equal(result.format, 'masscan-json');
    assert.deepEqual(
      result.findings.map((f) => `${f.ip}:${String(f.port)}`),
      ['127.0.0.1:1883', '127.0.0.1:3306', '127.0.0.1:5432', '127.0.0.1:6379'],
    );
    assert.deepEqual(result.scanned, { complete: true });
    assert.deepEqual(result.scanner, {
      name: 'masscan',
      startedAt: 1795514500000,
      finishedAt: 1795514502000,
    });
    // The UDP and ICMP responders are still hosts that answered.
    assert.deepEqual(
      result.hosts.map((h) => h.ip),
      ['127.0.0.1', '127.0.0.2', '127.0.0.3'],
    );
  });

  it('merges the banner records of one ip/port into one finding', () => {
    const result = parseMasscanJson(fixture('masscan-banners.json'));
    assert.equal(result.scanned.complete, false, 'no finished record');
    assert.equal(result.findings.length, 4);
    const web = result.findings.find((f) => f.port === 37627);
    assert.deepEqual(web?.http, {
      status: 200,
      server: 'SimpleHTTP/0.6 Python/3.11.7',
      title: 'Surfacescan fixture page',
    });
    assert.equal(web.service, 'http');
    assert.match(web.banner ?? '', /^HTTP\/1\.0 200 OK\\x0d\\x0aServer: SimpleHTTP/);
    const tls = result.findings.find((f) => f.port === 52537);
    assert.equal(tls?.service, 'https');
    const chain = tls.tls?.chain ?? [];
    assert.equal(chain.length, 1);
    assert.equal(chain[0]?.subject, 'CN=localhost, O=Surfacescan Test');
    assert.equal(chain[0].selfSigned, true);
    assert.equal(tls.tls?.protocol, 'TLSv1.2');
    assert.equal(result.findings.find((f) => f.port === 4369)?.ip, '::1');
  });

  it('reads the one-record-per-line form without brackets', () => {
    const lines = fixture('masscan-full.json')
      .split('\n')
      .filter((l) => l.startsWith('{'))
      .map((l) => l.replace(/,$/, ''))
      .join('\n');
    const result = parseMasscanJson(lines);
    assert.equal(result.findings.length, 4);
    assert.equal(result.scanned.complete, true);
  });

  it('reads the 1.3 form with a comma before each record and a quoted finished record', () => {
    const text = [
      '[',
      '{"ip": "192.0.2.10", "timestamp": "1795514400", "ports": [{"port": 22, "proto": "tcp", "service": {"name": "ssh", "banner": "SSH-2.0-OpenSSH_9.2p1 Debian-2+deb12u3"}}]}',
      ',{"ip": "2001:DB8:0:0::1", "timestamp": "1795514401", "ports": [{"port": 3389, "proto": "tcp", "service": {"name": "rdp", "banner": ""}}]}',
      ',{"finished": 1}',
      ']',
    ].join('\n');
    const result = parseMasscanJson(text);
    assert.deepEqual(result.findings, [
      {
        ip: '192.0.2.10',
        port: 22,
        protocol: 'tcp',
        service: 'ssh',
        banner: 'SSH-2.0-OpenSSH_9.2p1 Debian-2+deb12u3',
      },
      { ip: '2001:db8::1', port: 3389, protocol: 'tcp', service: 'ms-wbt-server', banner: '' },
    ]);
    assert.equal(result.scanned.complete, true);
  });

  it('refuses the truncated fixture and any file cut short', () => {
    rejects(fixture('masscan-truncated.json'), /^masscan JSON is truncated: .*line 3/);
    const text = fixture('masscan-banners.json');
    const end = text.lastIndexOf(']') + 1;
    for (let cut = 0; cut < end; cut += 11) {
      assert.throws(
        () => parseMasscanJson(text.slice(0, cut)),
        ImportFormatError,
        `cut at ${String(cut)}`,
      );
    }
    const lines = fixture('masscan-full.json').split('\n').slice(1, 4).join('\n');
    rejects(lines.slice(0, -5), /truncated: the last record is incomplete \(line 3\)/);
  });

  it('refuses malformed JSON with its line and column', () => {
    const error = rejects(
      fixture('masscan-malformed.json'),
      /^masscan JSON is malformed: unexpected "\\"" at line 4, column \d+$/,
    );
    assert.equal(error.line, 4);
  });

  it('refuses a non-IP address and an impossible port, naming the record', () => {
    const full = fixture('masscan-full.json');
    rejects(
      full.replace('"ip": "127.0.0.2"', '"ip": "localhost"'),
      /^masscan record 5 \(line 6\): "ip" "localhost" is not an IP address$/,
    );
    rejects(
      full.replace('"port": 3306', '"port": 70000'),
      /^masscan record 2 \(line 3\): port 70000 of 127\.0\.0\.1 is not in 1\.\.65535$/,
    );
    rejects(full.replace('"port": 3306', '"port": "3306"'), /port "3306"/);
    rejects('[{"ip": "10.0.0.1"}]', /"ports" is not a list/);
    rejects('"just a string"', /^not masscan JSON/);
  });

  it('parses a 100k-port file in well under a second', () => {
    const text = bigMasscanJson(1000, 100);
    parseMasscanJson(bigMasscanJson(10, 100));
    const started = performance.now();
    const cpuBefore = process.cpuUsage();
    const result = parseMasscanJson(text);
    const cpu = process.cpuUsage(cpuBefore);
    const ms = performance.now() - started;
    const cpuMs = (cpu.user + cpu.system) / 1000;
    assert.equal(result.findings.length, 100_000);
    assert.equal(result.scanned.complete, true);
    console.log(
      `masscan JSON: 100,000 open ports (${(text.length / 1048576).toFixed(1)} MiB) parsed in ${ms.toFixed(0)} ms (${cpuMs.toFixed(0)} ms CPU)`,
    );
    assert.ok(cpuMs < 3000, `took ${cpuMs.toFixed(0)} ms of CPU`);
  });
});
