/**
 * A QR code for the terminal, drawn with Unicode half blocks so that one text
 * line holds two module rows and a module is about square in a usual font.
 *
 * The module matrix comes from `qrcode-generator` (no dependencies of its
 * own); only the drawing is ours. Decisions:
 * - Byte mode, error correction level M, smallest version that fits: a
 *   typical card (~170 characters) is version 9, 53 modules, which with the
 *   quiet zone is 61 columns: it fits an 80-column terminal.
 * - A 4-module quiet zone (ISO/IEC 18004 asks for 4), printed, because the
 *   terminal around the code is not guaranteed to be the colour a scanner needs.
 * - By default the LIGHT modules and the quiet zone are drawn (█ ▀ ▄) and dark
 *   modules are left as spaces: on the usual light-on-dark terminal that shows
 *   dark modules on a light field, which every scanner reads. `invert` draws
 *   the dark modules instead, for dark-on-light terminals.
 */
import qrcode from 'qrcode-generator';

/** Modules of quiet zone on each side. */
export const QR_QUIET_ZONE = 4;

/** The QR module matrix of `text` (UTF-8, byte mode, level M): `true` = dark. */
export function qrMatrix(text: string): boolean[][] {
  const qr = qrcode(0, 'M');
  qr.addData(toLatin1Bytes(text), 'Byte');
  qr.make();
  const n = qr.getModuleCount();
  return Array.from({ length: n }, (_, r) => Array.from({ length: n }, (_, c) => qr.isDark(r, c)));
}

/**
 * The QR code of `text` as terminal lines: (n + 8) columns and
 * ceil((n + 8) / 2) lines for an n-module code with its quiet zone.
 */
export function renderQr(text: string, options: { invert?: boolean } = {}): string[] {
  const matrix = qrMatrix(text);
  const size = matrix.length + 2 * QR_QUIET_ZONE;
  const drawn = (r: number, c: number): boolean => {
    if (r >= size) return false; // below the last module row: nothing
    const m = r - QR_QUIET_ZONE;
    const k = c - QR_QUIET_ZONE;
    const dark = matrix[m]?.[k] ?? false; // the quiet zone is light
    return options.invert ? dark : !dark;
  };
  const lines: string[] = [];
  for (let r = 0; r < size; r += 2) {
    let line = '';
    for (let c = 0; c < size; c++)
      line += HALF_BLOCKS[(drawn(r, c) ? 2 : 0) + (drawn(r + 1, c) ? 1 : 0)];
    lines.push(line);
  }
  return lines;
}

/** Index = 2·top + bottom. */
const HALF_BLOCKS = [' ', '▄', '▀', '█'] as const;

/**
 * qrcode-generator's 'Byte' mode takes a string of one character per byte
 * (its default stringToBytes keeps the low 8 bits), so UTF-8 goes in as Latin-1.
 */
function toLatin1Bytes(text: string): string {
  return Buffer.from(text, 'utf8').toString('latin1');
}
