/**
 * How an SMS is encoded and how many segments it is billed as (3GPP TS 23.038 / 23.040). GSM-7
 * when every character is in the GSM 03.38 basic set or its extension table (an extension
 * character costs two septets: the escape and itself), else UCS-2 (UTF-16 code units; a
 * character outside the BMP costs two). One segment holds 160 septets or 70 units; a
 * concatenated message's segments hold 153 or 67 each (the rest is the user data header), and a
 * two-unit character is never split across two segments.
 */
export type SmsEncoding = 'GSM-7' | 'UCS-2';

export interface SmsSize {
  encoding: SmsEncoding;
  /** septets (GSM-7) or UTF-16 code units (UCS-2) */
  units: number;
  segments: number;
}

const GSM_BASIC =
  '@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞÆæßÉ !"#¤%&\'()*+,-./0123456789:;<=>?' +
  '¡ABCDEFGHIJKLMNOPQRSTUVWXYZÄÖÑÜ§¿abcdefghijklmnopqrstuvwxyzäöñüà';
const GSM_EXTENSION = '\f^{}\\[~]|€';
const BASIC = new Set(GSM_BASIC);
const EXTENSION = new Set(GSM_EXTENSION);

const LIMITS: Record<SmsEncoding, { single: number; part: number }> = {
  'GSM-7': { single: 160, part: 153 },
  'UCS-2': { single: 70, part: 67 },
};

/** What each character costs in `encoding`. */
function costs(text: string, encoding: SmsEncoding): number[] {
  const chars = Array.from(text); // code points: a surrogate pair is one character
  if (encoding === 'GSM-7') return chars.map((c) => (EXTENSION.has(c) ? 2 : 1));
  return chars.map((c) => c.length);
}

export function isGsm7(text: string): boolean {
  for (const c of text) if (!BASIC.has(c) && !EXTENSION.has(c)) return false;
  return true;
}

export function smsSize(text: string): SmsSize {
  const encoding: SmsEncoding = isGsm7(text) ? 'GSM-7' : 'UCS-2';
  const each = costs(text, encoding);
  const units = each.reduce((a, b) => a + b, 0);
  const { single, part } = LIMITS[encoding];
  if (units <= single) return { encoding, units, segments: 1 };
  let segments = 1;
  let used = 0;
  for (const cost of each) {
    if (used + cost > part) {
      segments += 1;
      used = 0;
    }
    used += cost;
  }
  return { encoding, units, segments };
}
