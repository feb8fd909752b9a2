import { describe, expect, it } from 'vitest';
import {
  CloseCode,
  closeReason,
  defaultCloseReasons,
  MAX_CLOSE_REASON_BYTES,
} from '../../../src/ws/close-codes.js';

const utf8Bytes = (s: string): number => Buffer.byteLength(s, 'utf8');

describe('CloseCode', () => {
  it('has the codes of docs/websocket.md and a default reason for each', () => {
    expect(CloseCode.ProtocolError).toBe(4400);
    expect(CloseCode.SessionTakenOver).toBe(4409);
    expect(CloseCode.TooSlow).toBe(4429);
    for (const code of Object.values(CloseCode)) {
      const reason = defaultCloseReasons[code];
      expect(reason, String(code)).toBeTruthy();
      expect(utf8Bytes(reason)).toBeLessThanOrEqual(MAX_CLOSE_REASON_BYTES);
    }
  });
});

describe('closeReason', () => {
  it('keeps a reason that fits', () => {
    expect(closeReason('')).toBe('');
    expect(closeReason('too slow')).toBe('too slow');
    const exact = 'x'.repeat(123);
    expect(closeReason(exact)).toBe(exact);
    const exactMultibyte = 'é'.repeat(61) + 'x'; // 122 + 1 bytes, 62 units: measured, not assumed
    expect(closeReason(exactMultibyte)).toBe(exactMultibyte);
  });

  it('cuts ASCII at 123 bytes', () => {
    expect(closeReason('x'.repeat(500))).toBe('x'.repeat(123));
  });

  it('never splits a multibyte character', () => {
    // 2-byte é: 61 fit in 122 bytes, the 62nd would end at 124.
    expect(closeReason('é'.repeat(100))).toBe('é'.repeat(61));
    // 3-byte €: 41 fill 123 bytes exactly.
    expect(closeReason('€'.repeat(50))).toBe('€'.repeat(41));
    // 4-byte emoji (a surrogate pair in JS): 30 fit in 120 bytes; the 31st would end at 124.
    expect(closeReason('😀'.repeat(40))).toBe('😀'.repeat(30));
    // Shifted by one ASCII byte so the boundary lands inside each kind of character.
    for (const ch of ['é', '€', '😀']) {
      for (let pad = 0; pad < 4; pad++) {
        const text = 'a'.repeat(pad) + ch.repeat(80);
        const cut = closeReason(text);
        expect(utf8Bytes(cut)).toBeLessThanOrEqual(123);
        expect(utf8Bytes(cut)).toBeGreaterThan(123 - utf8Bytes(ch));
        expect(text.startsWith(cut)).toBe(true);
        expect(cut).not.toContain('\ufffd');
      }
    }
  });
});
