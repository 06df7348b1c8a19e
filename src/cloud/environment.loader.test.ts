import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import {
  EnvironmentError,
  loadEnvironmentFile,
  parseEnvironment,
  validateEnvironment,
} from '#src/cloud/environment.loader.js';

const FIXTURES = new URL('../../../test/fixtures/cloud/', import.meta.url);
const SOURCE = 'env.json';

/** Asserts that parsing `text` fails with exactly `message` (source prefix included). */
function rejects(text: string, message: string): void {
  assert.throws(
    () => parseEnvironment(text, SOURCE),
    (error: unknown) => {
      assert.ok(error instanceof EnvironmentError, `not an EnvironmentError: ${String(error)}`);
      assert.equal(error.name, 'EnvironmentError');
      assert.equal(error.message, `cloud environment ${SOURCE}: ${message}`);
      assert.doesNotMatch(error.message, /\n/, 'one line');
      return true;
    },
  );
}

/** A document with the given VMs and rules, as JSON text. */
function doc(vms: unknown, fwRules: unknown = []): string {
  return JSON.stringify({ vms, fw_rules: fwRules });
}

const vm = (id: string, tags: unknown[] = [], name = id): Record<string, unknown> => ({
  vm_id: id,
  name,
  tags,
});
const rule = (id: string, source: string, dest: string): Record<string, unknown> => ({
  fw_id: id,
  source_tag: source,
  dest_tag: dest,
});

function tempFile(content: string): string {
  const file = join(mkdtempSync(join(tmpdir(), 'surfacescan-loader-')), 'env.json');
  writeFileSync(file, content);
  return file;
}

describe('parseEnvironment rejects text that is not JSON', () => {
  it('gives line and column of the first bad character on one line', () => {
    rejects('{"vms": [}', 'not valid JSON at line 1 column 10: unexpected "}"');
  });

  it('counts lines and columns across newlines', () => {
    // The trailing comma is fine; the "]" after it is line 4, column 3.
    rejects(
      '{\n  "vms": [\n    1,\n  ],\n  "fw_rules": []\n}',
      'not valid JSON at line 4 column 3: unexpected "]"',
    );
  });

  it('reports a truncated document as an unexpected end of file', () => {
    rejects('{"vms": [', 'not valid JSON at line 1 column 10: unexpected end of file');
  });

  it('reports an empty text at line 1 column 1', () => {
    rejects('', 'not valid JSON at line 1 column 1: unexpected end of file');
  });
});

describe('parseEnvironment rejects a wrong top-level shape', () => {
  for (const [text, got] of [
    ['[]', 'an array'],
    ['null', 'null'],
    ['"vms"', 'the string "vms"'],
    ['42', 'number 42'],
    ['true', 'boolean true'],
  ] as const) {
    it(`rejects a top-level ${text}`, () => {
      rejects(text, `$: expected an object with "vms" and "fw_rules", got ${got}`);
    });
  }

  it('rejects a document without vms', () => {
    rejects('{"fw_rules": []}', '$: missing required field "vms"');
  });

  it('rejects a document without fw_rules', () => {
    rejects('{"vms": []}', '$: missing required field "fw_rules"');
  });

  it('rejects vms that is not an array', () => {
    rejects('{"vms": {}, "fw_rules": []}', '$.vms: expected an array, got an object');
    rejects('{"vms": null, "fw_rules": []}', '$.vms: expected an array, got null');
  });

  it('rejects fw_rules that is not an array', () => {
    rejects(
      '{"vms": [], "fw_rules": "none"}',
      '$.fw_rules: expected an array, got the string "none"',
    );
  });
});

describe('parseEnvironment rejects a bad VM, naming its JSON path', () => {
  it('rejects a VM that is not an object', () => {
    rejects(doc([vm('a'), 'b']), '$.vms[1]: expected an object, got the string "b"');
    rejects(doc([null]), '$.vms[0]: expected an object, got null');
    rejects(doc([[]]), '$.vms[0]: expected an object, got an array');
  });

  it('rejects a VM without vm_id, name or tags', () => {
    rejects(doc([{ name: 'a', tags: [] }]), '$.vms[0]: missing required field "vm_id"');
    rejects(doc([vm('a'), { vm_id: 'b', tags: [] }]), '$.vms[1]: missing required field "name"');
    rejects(doc([{ vm_id: 'a', name: 'a' }]), '$.vms[0]: missing required field "tags"');
  });

  it('rejects a vm_id that is a number or null', () => {
    rejects(
      doc([{ vm_id: 7, name: 'a', tags: [] }]),
      '$.vms[0].vm_id: expected a string, got number 7',
    );
    rejects(
      doc([{ vm_id: null, name: 'a', tags: [] }]),
      '$.vms[0].vm_id: expected a string, got null',
    );
  });

  it('rejects an empty vm_id', () => {
    rejects(doc([vm('a'), vm('')]), '$.vms[1].vm_id: must not be empty');
  });

  it('rejects a name that is not a string', () => {
    rejects(
      doc([{ vm_id: 'a', name: 3, tags: [] }]),
      '$.vms[0].name: expected a string, got number 3',
    );
  });

  it('rejects tags that are not an array', () => {
    rejects(
      doc([{ vm_id: 'a', name: 'a', tags: 'dev' }]),
      '$.vms[0].tags: expected an array of strings, got the string "dev"',
    );
  });

  it('rejects a non-string tag, naming the VM and the tag index', () => {
    rejects(
      doc([vm('a'), vm('b', ['x', 'y', 5])]),
      '$.vms[1].tags[2]: expected a string, got number 5',
    );
    rejects(doc([vm('a', [null])]), '$.vms[0].tags[0]: expected a string, got null');
    rejects(doc([vm('a', [{}])]), '$.vms[0].tags[0]: expected a string, got an object');
  });

  it('cuts a long string in the message to 40 characters', () => {
    rejects(
      doc(['x'.repeat(100)]),
      `$.vms[0]: expected an object, got the string "${'x'.repeat(40)}…"`,
    );
  });

  it('rejects a duplicate vm_id naming both positions', () => {
    rejects(
      doc([vm('a'), vm('b'), vm('a')]),
      '$.vms[2].vm_id: duplicate vm_id "a" (first at $.vms[0])',
    );
  });

  it('reports the first bad VM when several are bad', () => {
    rejects(
      doc([vm('a'), { vm_id: 1 }, { vm_id: 2 }]),
      '$.vms[1].vm_id: expected a string, got number 1',
    );
  });
});

describe('parseEnvironment rejects a bad firewall rule, naming its JSON path', () => {
  it('rejects a rule that is not an object', () => {
    rejects(doc([], [rule('f', 'a', 'b'), 3]), '$.fw_rules[1]: expected an object, got number 3');
  });

  it('rejects a rule without fw_id, source_tag or dest_tag', () => {
    rejects(
      doc([], [{ source_tag: 'a', dest_tag: 'b' }]),
      '$.fw_rules[0]: missing required field "fw_id"',
    );
    rejects(
      doc([], [{ fw_id: 'f', dest_tag: 'b' }]),
      '$.fw_rules[0]: missing required field "source_tag"',
    );
    rejects(
      doc([], [{ fw_id: 'f', source_tag: 'a' }]),
      '$.fw_rules[0]: missing required field "dest_tag"',
    );
  });

  it('rejects a mistyped fw_id, source_tag or dest_tag', () => {
    rejects(
      doc([], [{ fw_id: 1, source_tag: 'a', dest_tag: 'b' }]),
      '$.fw_rules[0].fw_id: expected a string, got number 1',
    );
    rejects(
      doc([], [{ fw_id: 'f', source_tag: ['a'], dest_tag: 'b' }]),
      '$.fw_rules[0].source_tag: expected a string, got an array',
    );
    rejects(
      doc([], [rule('f', 'a', 'b'), { fw_id: 'g', source_tag: 'a', dest_tag: false }]),
      '$.fw_rules[1].dest_tag: expected a string, got boolean false',
    );
  });

  it('rejects an empty fw_id', () => {
    rejects(doc([], [rule('', 'a', 'b')]), '$.fw_rules[0].fw_id: must not be empty');
  });

  it('rejects a duplicate fw_id naming both positions', () => {
    rejects(
      doc([], [rule('f', 'a', 'b'), rule('g', 'a', 'b'), rule('f', 'c', 'd')]),
      '$.fw_rules[2].fw_id: duplicate fw_id "f" (first at $.fw_rules[0])',
    );
  });

  it('checks the VMs before the rules', () => {
    rejects(
      doc([vm('a'), vm('a')], [rule('f', 'a', 'b'), rule('f', 'a', 'b')]),
      '$.vms[1].vm_id: duplicate vm_id "a" (first at $.vms[0])',
    );
  });
});

describe('validateEnvironment', () => {
  it('names the JSON path without a source, since it has none', () => {
    assert.throws(
      () => validateEnvironment({ vms: [{ vm_id: 'a', name: 'a', tags: [1] }], fw_rules: [] }),
      {
        name: 'EnvironmentError',
        message: '$.vms[0].tags[0]: expected a string, got number 1',
      },
    );
    assert.throws(() => validateEnvironment(undefined), {
      name: 'EnvironmentError',
      message: '$: expected an object with "vms" and "fw_rules", got undefined',
    });
  });

  it('returns the VMs and rules, in order, without unknown fields', () => {
    const env = validateEnvironment({
      vms: [
        { vm_id: 'b', name: 'B', tags: ['x'], zone: 'eu' },
        { vm_id: 'a', name: 'A', tags: [] },
      ],
      fw_rules: [{ fw_id: 'f', source_tag: 'x', dest_tag: 'y', port: 22 }],
      owner: 'ops',
    });
    assert.deepEqual(env, {
      vms: [
        { vm_id: 'b', name: 'B', tags: ['x'] },
        { vm_id: 'a', name: 'A', tags: [] },
      ],
      fw_rules: [{ fw_id: 'f', source_tag: 'x', dest_tag: 'y' }],
    });
  });
});

describe('parseEnvironment accepts', () => {
  it('ignores unknown extra fields at the top level and per element', () => {
    const text = JSON.stringify({
      version: 3,
      vms: [{ ...vm('a', ['x']), zone: 'eu', tags_extra: [1] }],
      fw_rules: [{ ...rule('f', 'x', 'x'), comment: null }],
      meta: { generated: true },
    });
    assert.deepEqual(parseEnvironment(text, SOURCE), {
      vms: [{ vm_id: 'a', name: 'a', tags: ['x'] }],
      fw_rules: [{ fw_id: 'f', source_tag: 'x', dest_tag: 'x' }],
    });
  });

  it('accepts a file saved with a UTF-8 byte-order mark', () => {
    const text = '\ufeff' + doc([vm('a', ['x'])], []);
    assert.deepEqual(parseEnvironment(text, SOURCE).vms, [{ vm_id: 'a', name: 'a', tags: ['x'] }]);
  });

  it('accepts rules whose tags no VM carries', () => {
    const env = parseEnvironment(doc([vm('a', ['x'])], [rule('f', 'ghost', 'phantom')]), SOURCE);
    assert.deepEqual(env.fw_rules, [{ fw_id: 'f', source_tag: 'ghost', dest_tag: 'phantom' }]);
  });

  it('accepts an empty environment', () => {
    assert.deepEqual(parseEnvironment('{"vms":[],"fw_rules":[]}', SOURCE), {
      vms: [],
      fw_rules: [],
    });
  });

  it('accepts a VM with no tags, duplicate tags in one VM and an empty name', () => {
    const env = parseEnvironment(
      doc([vm('a', []), vm('b', ['x', 'x']), vm('c', ['y'], '')]),
      SOURCE,
    );
    assert.deepEqual(env.vms, [
      { vm_id: 'a', name: 'a', tags: [] },
      { vm_id: 'b', name: 'b', tags: ['x', 'x'] },
      { vm_id: 'c', name: '', tags: ['y'] },
    ]);
  });

  it('accepts empty source and dest tags', () => {
    const env = parseEnvironment(doc([], [rule('f', '', '')]), SOURCE);
    assert.deepEqual(env.fw_rules, [{ fw_id: 'f', source_tag: '', dest_tag: '' }]);
  });

  it('treats vm_id and fw_id as separate id spaces', () => {
    const env = parseEnvironment(doc([vm('same')], [rule('same', 'a', 'b')]), SOURCE);
    assert.equal(env.vms.length, 1);
    assert.equal(env.fw_rules.length, 1);
  });
});

describe('loadEnvironmentFile', () => {
  for (const name of ['input-0.json', 'input-1.json', 'input-2.json', 'input-3.json']) {
    it(`loads the fixture ${name} exactly as written`, () => {
      const path = fileURLToPath(new URL(name, FIXTURES));
      const raw = JSON.parse(readFileSync(path, 'utf8')) as unknown;
      assert.deepEqual(loadEnvironmentFile(path), raw);
    });
  }

  it('agrees with expected.json on which VMs each fixture has', () => {
    const expected = JSON.parse(readFileSync(new URL('expected.json', FIXTURES), 'utf8')) as Record<
      string,
      Record<string, unknown>
    >;
    for (const [name, answers] of Object.entries(expected)) {
      const env = loadEnvironmentFile(fileURLToPath(new URL(name, FIXTURES)));
      assert.deepEqual(env.vms.map((v) => v.vm_id).sort(), Object.keys(answers).sort(), name);
    }
  });

  it('names the file in a validation error', () => {
    const file = tempFile(doc([vm('a', ['x', 2])]));
    assert.throws(() => loadEnvironmentFile(file), {
      name: 'EnvironmentError',
      message: `cloud environment ${file}: $.vms[0].tags[1]: expected a string, got number 2`,
    });
  });

  it('names the file in a syntax error', () => {
    const file = tempFile('{"vms": [],\n "fw_rules": [,]}');
    assert.throws(() => loadEnvironmentFile(file), {
      name: 'EnvironmentError',
      message: `cloud environment ${file}: not valid JSON at line 2 column 15: unexpected ","`,
    });
  });

  it('reports a missing file as "no such file"', () => {
    const file = join(mkdtempSync(join(tmpdir(), 'surfacescan-loader-')), 'absent.json');
    assert.throws(() => loadEnvironmentFile(file), {
      name: 'EnvironmentError',
      message: `cloud environment ${file}: cannot read file: no such file`,
    });
  });

  it('reports a directory as not a file', () => {
    const dir = mkdtempSync(join(tmpdir(), 'surfacescan-loader-'));
    assert.throws(() => loadEnvironmentFile(dir), {
      name: 'EnvironmentError',
      message: `cloud environment ${dir}: cannot read file: is a directory, not a file`,
    });
  });
});
