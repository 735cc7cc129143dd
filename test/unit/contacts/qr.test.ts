/**
 * The terminal QR code (src/contacts/qr.ts). No decoder here: the test reads
 * the half blocks back into modules and checks them against the encoder's
 * matrix, the quiet zone, the three finder patterns and determinism.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { QR_QUIET_ZONE, qrMatrix, renderQr } from '../../../src/contacts/qr.js';

const CARD =
  'p2psip:alice@example.org?v=1&key=A6EHv_POEL4dcN0Y50vAmWfk1jCbpQ1fHdyGZBJVMbg&sig=ogmwFn-_-4gO2SGZ8pBydqR2RsfsTnKXGk13X0p8ua5lzbUbvkZ2Blstso9vQjNS5h9A62PusLvc__gmSkpiDQ';

/** Half-block lines back to a matrix of "drawn" cells (two rows per line). */
function unrender(lines: string[]): boolean[][] {
  const rows: boolean[][] = [];
  for (const line of lines) {
    rows.push([...line].map((ch) => ch === '█' || ch === '▀'));
    rows.push([...line].map((ch) => ch === '█' || ch === '▄'));
  }
  return rows;
}

test('a 167-character card is version 9 (53 modules): 61 columns, 31 lines with the quiet zone', () => {
  const matrix = qrMatrix(CARD);
  assert.equal(matrix.length, 53);
  const lines = renderQr(CARD);
  const size = 53 + 2 * QR_QUIET_ZONE;
  assert.equal(lines.length, Math.ceil(size / 2));
  for (const line of lines) {
    assert.equal([...line].length, size);
    assert.match(line, /^[ ▀▄█]+$/);
  }
});

test('the drawing is the module matrix: light modules and a 4-module quiet zone drawn, dark ones blank', () => {
  for (const text of [CARD, 'p2psip:x@y.z', 'Zoë']) {
    const matrix = qrMatrix(text);
    const n = matrix.length;
    const size = n + 2 * QR_QUIET_ZONE;
    const drawn = unrender(renderQr(text));
    for (let r = 0; r < drawn.length; r++) {
      for (let c = 0; c < size; c++) {
        const m = r - QR_QUIET_ZONE;
        const k = c - QR_QUIET_ZONE;
        let expected: boolean;
        if (r >= size)
          expected = false; // the half line below an odd-sized code
        else if (m < 0 || k < 0 || m >= n || k >= n)
          expected = true; // quiet zone: light
        else expected = !matrix[m]![k]!;
        assert.equal(drawn[r]![c], expected, `${text}: row ${r} column ${c}`);
      }
    }
    // Finder patterns in three corners: a dark 7×7 ring around a light ring around a dark 3×3.
    for (const [r0, c0] of [
      [0, 0],
      [0, n - 7],
      [n - 7, 0],
    ] as const) {
      for (let i = 0; i < 7; i++) {
        for (let j = 0; j < 7; j++) {
          const ring = Math.max(Math.abs(i - 3), Math.abs(j - 3));
          assert.equal(matrix[r0 + i]![c0 + j], ring !== 2, `finder at ${r0},${c0}`);
        }
      }
    }
  }
});

test('invert draws the dark modules instead, and nothing outside the code', () => {
  const normal = unrender(renderQr(CARD));
  const inverted = unrender(renderQr(CARD, { invert: true }));
  const size = qrMatrix(CARD).length + 2 * QR_QUIET_ZONE;
  for (let r = 0; r < size; r++) {
    for (let c = 0; c < size; c++) assert.equal(inverted[r]![c], !normal[r]![c]);
  }
  assert.ok(
    inverted[size]!.every((cell) => !cell),
    'below the code nothing is drawn',
  );
});

test('the same text gives the same QR; one changed character gives another', () => {
  assert.deepEqual(renderQr(CARD), renderQr(CARD));
  assert.notDeepEqual(renderQr(CARD), renderQr(CARD.replace('alice', 'alicf')));
});
