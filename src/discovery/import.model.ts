/**
 * One entry point for scan imports: tell the format from the first bytes, then hand the text to
 * its parser. The CLI `import` command and POST /api/v1/imports both call parseImport.
 */
import { parseMasscanJson } from '#src/discovery/masscan-json.model.js';
import { parseNmapXml } from '#src/discovery/nmap-xml.model.js';
import {
  ImportFormatError,
  assertImportSize,
  type ImportFormat,
  type ImportResult,
} from '#src/discovery/import-result.model.js';

/** The formats parseImport accepts, for schemas and help texts. */
export const IMPORT_FORMATS: readonly ImportFormat[] = ['nmap-xml', 'masscan-json'];

/** How far into the file the nmap root element is looked for (XML declaration, DOCTYPE,
 * stylesheet and a comment come first). */
const SNIFF_CHARS = 8192;

/** Which importer reads this text. Throws ImportFormatError for anything else. */
export function detectImportFormat(text: string): ImportFormat {
  const head = text.slice(0, SNIFF_CHARS).replace(/^\uFEFF/, '');
  const start = head.trimStart();
  if (start === '')
    throw new ImportFormatError('neither nmap XML nor masscan JSON: the file is empty');
  const first = start[0];
  if (first === '<') {
    if (/<nmaprun[\s>]/.test(head)) return 'nmap-xml';
    throw new ImportFormatError(
      'neither nmap XML nor masscan JSON: an XML document without an <nmaprun> element',
    );
  }
  if (first === '[' || first === '{') return 'masscan-json';
  const shown = JSON.stringify(start.slice(0, 20));
  throw new ImportFormatError(
    `neither nmap XML (-oX) nor masscan JSON (-oJ): the file starts with ${shown}`,
    1,
    1,
  );
}

/** Parses an nmap XML or masscan JSON export; `format` skips detection. All or nothing: any
 * problem throws ImportFormatError and no partial result exists. */
export function parseImport(text: string, format?: ImportFormat): ImportResult {
  assertImportSize(text.length);
  const chosen = format ?? detectImportFormat(text);
  switch (chosen) {
    case 'nmap-xml':
      return parseNmapXml(text);
    case 'masscan-json':
      return parseMasscanJson(text);
  }
}
