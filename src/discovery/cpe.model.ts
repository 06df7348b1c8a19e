/**
 * CPE 2.2 URI to CPE 2.3 formatted string (NISTIR 7695, "unbind URI" then "bind to FS").
 * nmap still writes 2.2 URIs (cpe:/a:openbsd:openssh:9.2p1) while ServiceFinding and the
 * vulnerability feeds speak 2.3, so names must convert exactly, escapes included.
 */

const ATTRIBUTES_23 = 11; // part, vendor, product, version, update, edition, language, sw_edition, target_sw, target_hw, other

/** One 2.2 URI component as a 2.3 formatted-string value. */
function uriComponentToFs(component: string): string {
  if (component === '') return '*';
  if (component === '-') return '-';
  let out = '';
  for (let i = 0; i < component.length; i++) {
    let ch = component[i]!;
    if (ch === '%' && /^[0-9a-f]{2}$/i.test(component.slice(i + 1, i + 3))) {
      const code = parseInt(component.slice(i + 1, i + 3), 16);
      i += 2;
      // %01 and %02 are the URI's single- and multi-character wildcards; unquoted in 2.3.
      if (code === 0x01) {
        out += '?';
        continue;
      }
      if (code === 0x02) {
        out += '*';
        continue;
      }
      ch = String.fromCharCode(code);
    }
    const lower = ch.toLowerCase();
    // Formatted strings quote every non-alphanumeric except "-", "." and "_".
    out += /[a-z0-9_.-]/.test(lower) ? lower : `\\${lower}`;
  }
  return out;
}

/** Converts a CPE 2.2 URI ("cpe:/a:vendor:product:version") to a CPE 2.3 formatted string;
 * a 2.3 string is returned as is; anything else gives undefined. */
export function cpeTo23(name: string): string | undefined {
  const trimmed = name.trim();
  if (/^cpe:2\.3:[aho*-]:/i.test(trimmed)) return trimmed;
  const match = /^cpe:\/([aho]?)(?::(.*))?$/i.exec(trimmed);
  if (!match) return undefined;
  const rest = match[2] ?? '';
  const parts = rest === '' ? [] : rest.split(':');
  if (parts.length > 6) return undefined;
  const values = [match[1] === '' ? '*' : match[1]!.toLowerCase()];
  for (let i = 0; i < 6; i++) {
    const component = parts[i] ?? '';
    // The edition component may pack five 2.3 attributes as ~edition~sw_edition~target_sw~target_hw~other.
    if (i === 4 && component.startsWith('~')) {
      const packed = component.slice(1).split('~');
      if (packed.length !== 5) return undefined;
      const [edition, swEdition, targetSw, targetHw, other] = packed.map(uriComponentToFs);
      values.push(edition!);
      const language = uriComponentToFs(parts[5] ?? '');
      values.push(language, swEdition!, targetSw!, targetHw!, other!);
      return `cpe:2.3:${values.join(':')}`;
    }
    values.push(uriComponentToFs(component));
  }
  while (values.length < ATTRIBUTES_23) values.push('*');
  return `cpe:2.3:${values.join(':')}`;
}
