import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, readdirSync } from 'node:fs';
import { cpeTo23 } from '#src/discovery/cpe.model.js';
import { detectImportFormat, parseImport } from '#src/discovery/import.model.js';
import {
  ImportFormatError,
  MAX_IMPORT_BYTES,
  assertImportSize,
  portRanges,
  printableBanner,
} from '#src/discovery/import-result.model.js';

const FIXTURES = new URL('../../../test/fixtures/imports/', import.meta.url);

describe('import format detection', () => {
  it('tells every committed fixture by its content and parses the good ones', () => {
    for (const name of readdirSync(FIXTURES)) {
      const text = readFileSync(new URL(name, FIXTURES), 'utf8');
      const expected = name.startsWith('nmap') ? 'nmap-xml' : 'masscan-json';
      assert.equal(detectImportFormat(text), expected, name);
      if (/truncated|malformed/.test(name))
        assert.throws(() => parseImport(text), ImportFormatError, name);
      else assert.equal(parseImport(text).format, expected, name);
    }
  });

  it('refuses a file that is neither format, saying so in one line', () => {
    for (const [text, pattern] of [
      ['', /the file is empty/],
      ['   \n', /the file is empty/],
      ['Nmap scan report for 10.0.0.1\n22/tcp open ssh', /starts with "Nmap scan report for"/],
      ['<?xml version="1.0"?>\n<html></html>', /without an <nmaprun> element/],
    ] as const) {
      assert.throws(
        () => detectImportFormat(text),
        (error: unknown) => {
          assert.ok(error instanceof ImportFormatError);
          assert.match(error.message, /^neither nmap XML/);
          assert.match(error.message, pattern);
          return true;
        },
      );
      assert.throws(() => parseImport(text), ImportFormatError);
    }
  });

  it('honours an explicit format instead of guessing', () => {
    const xml = readFileSync(new URL('nmap-full.xml', FIXTURES), 'utf8');
    assert.throws(() => parseImport(xml, 'masscan-json'), /not masscan JSON/);
  });

  it('refuses inputs over 256 MiB before parsing', () => {
    assert.doesNotThrow(() => {
      assertImportSize(MAX_IMPORT_BYTES);
    });
    assert.throws(() => {
      assertImportSize(MAX_IMPORT_BYTES + 1);
    }, /import is too large: 268435457 bytes, the limit is 256 MiB \(268435456 bytes\)$/);
  });

  it('escapes control bytes in banners and caps them at 1024 characters', () => {
    assert.equal(printableBanner('SSH-2.0-x\r\n\u0000\u00ff'), 'SSH-2.0-x\\x0d\\x0a\\x00\\xff');
    assert.equal(printableBanner('a'.repeat(5000)).length, 1024);
  });
});

describe('scanned port ranges', () => {
  it('expands nmap port lists into merged ranges and refuses impossible ports', () => {
    assert.deepEqual(portRanges('9,22-23,1883,24,3306'), [
      [9, 9],
      [22, 24],
      [1883, 1883],
      [3306, 3306],
    ]);
    assert.deepEqual(portRanges('1-65535'), [[1, 65535]]);
    assert.throws(() => portRanges('0-80'), ImportFormatError);
    assert.throws(() => portRanges('80-22'), ImportFormatError);
    assert.throws(() => portRanges('http'), /"http" is not a port/);
  });
});

describe('CPE 2.2 to 2.3', () => {
  it('converts nmap URIs, filling the unnamed attributes with ANY', () => {
    assert.equal(
      cpeTo23('cpe:/a:openbsd:openssh:9.2p1'),
      'cpe:2.3:a:openbsd:openssh:9.2p1:*:*:*:*:*:*:*',
    );
    assert.equal(
      cpeTo23('cpe:/o:linux:linux_kernel'),
      'cpe:2.3:o:linux:linux_kernel:*:*:*:*:*:*:*:*',
    );
    assert.equal(cpeTo23('cpe:/h:cisco'), 'cpe:2.3:h:cisco:*:*:*:*:*:*:*:*:*');
    assert.equal(cpeTo23('cpe:/'), 'cpe:2.3:*:*:*:*:*:*:*:*:*:*:*');
  });

  it('decodes percent escapes and quotes what 2.3 quotes', () => {
    assert.equal(
      cpeTo23('cpe:/a:mariadb:mariadb:5.5.5-10.11.19-mariadb-0%2Bdeb12u1'),
      'cpe:2.3:a:mariadb:mariadb:5.5.5-10.11.19-mariadb-0\\+deb12u1:*:*:*:*:*:*:*',
    );
    assert.equal(
      cpeTo23('cpe:/a:Microsoft:IIS:10.0'),
      'cpe:2.3:a:microsoft:iis:10.0:*:*:*:*:*:*:*',
    );
    assert.equal(
      cpeTo23('cpe:/a:vendor:product:1.%02'),
      'cpe:2.3:a:vendor:product:1.*:*:*:*:*:*:*:*',
    );
    assert.equal(cpeTo23('cpe:/a:vendor:product:-'), 'cpe:2.3:a:vendor:product:-:*:*:*:*:*:*:*');
    assert.equal(
      cpeTo23('cpe:/a:vendor:pro%3aduct'),
      'cpe:2.3:a:vendor:pro\\:duct:*:*:*:*:*:*:*:*',
    );
  });

  it('unpacks the extended edition of 2.2 URIs', () => {
    assert.equal(
      cpeTo23('cpe:/a:hp:insight_diagnostics:7.4.0.1570::~~online~win2003~x64~:en'),
      'cpe:2.3:a:hp:insight_diagnostics:7.4.0.1570:*:*:en:online:win2003:x64:*',
    );
  });

  it('passes 2.3 names through and refuses what is not a CPE', () => {
    const name = 'cpe:2.3:a:nginx:nginx:1.24.0:*:*:*:*:*:*:*';
    assert.equal(cpeTo23(name), name);
    assert.equal(cpeTo23('nginx 1.24'), undefined);
    assert.equal(cpeTo23('cpe:/a:a:b:c:d:e:f:g'), undefined);
  });
});
