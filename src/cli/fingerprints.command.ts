/**
 * `surfacescan fingerprints check FILE...`: operators teach the scanner new products with their
 * own fingerprint files (docs/discovery-probes.md); `check` validates them together with the
 * bundled database before a server or scan is pointed at them.
 */
import { Command } from 'commander';
import { loadFingerprints, summarizeFingerprintFiles } from '#src/discovery/fingerprint.model.js';

const count = (n: number, one: string, many: string): string =>
  `${String(n)} ${n === 1 ? one : many}`;

/** Builds `surfacescan fingerprints` with its subcommand. */
export function fingerprintsCommand(write: (text: string) => void): Command {
  const fingerprints = new Command('fingerprints').description(
    'The fingerprint database (probes and match rules): bundled in data/fingerprints.json,\n' +
      'plus the files of --fingerprints / SURFACESCAN_FINGERPRINTS.',
  );

  const check = new Command('check')
    .description(
      'Validate fingerprint FILEs as `--fingerprints` would load them (with the bundled database)\n' +
        'and print what each defines. Exit 2 with the file, entry and problem if one is bad.',
    )
    .argument('<files...>', 'fingerprint files ({"probes", "portHints", "fingerprints"})');
  check.action((files: string[]) => {
    const summaries = summarizeFingerprintFiles(files);
    const bundledHints = loadFingerprints().portHints;
    for (const s of summaries) {
      const overridden = s.portHints.filter((port) => bundledHints.has(port));
      write(
        `${s.file}: ${count(s.probes.length, 'probe', 'probes')}` +
          (s.probes.length === 0 ? '' : ` (${s.probes.join(', ')})`) +
          `, ${count(s.rules, 'rule', 'rules')} (tried before the bundled ones)` +
          `, ${count(s.portHints.length, 'port hint', 'port hints')}` +
          (overridden.length === 0
            ? ''
            : `; overrides bundled hints for port${overridden.length === 1 ? '' : 's'} ${overridden.join(', ')}`) +
          '\n',
      );
    }
    const rules = [...loadFingerprints(files).rules.values()].reduce((n, r) => n + r.length, 0);
    write(`ok: ${count(rules, 'rule', 'rules')} in effect\n`);
  });

  fingerprints.addCommand(check);
  return fingerprints;
}
