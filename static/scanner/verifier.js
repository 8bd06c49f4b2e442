// Verify a green-card token in the browser, exactly as portal/tokens/codec.py and `portal verify` do.
// The format is specified once, in docs/token-format.md; tests/scanner/vectors.json holds the shared vectors.
import { ed25519 } from '../vendor/noble-curves-1.6.0/ed25519.js';

export const FORMAT_V1 = 1;
const KID_BYTES = 2;
const HEADER_BYTES = 1 + KID_BYTES;
const SIGNATURE_BYTES = 64;
export const MAX_TOKEN_CHARS = 240;
const TEXT_ALPHABET = " 0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ-./'_";
const DAY_MS = 86400000;
/** Day 0 of the date fields, 2020-01-01, as days since 1970-01-01. */
const EPOCH_DAY = Date.UTC(2020, 0, 1) / DAY_MS;
/** Ho Chi Minh City has kept UTC+7, without daylight saving, since 1975. */
export const HCMC_OFFSET_MS = 7 * 3600 * 1000;
const B64URL = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_';
const B64URL_VALUE = new Map([...B64URL].map((char, index) => [char, index]));
/** The characters Python's str.strip() removes (str.isspace), so both sides read pasted text alike. */
const PY_SPACE = /^[\t\n\v\f\r\x1c-\x1f \x85\xa0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000]+|[\t\n\v\f\r\x1c-\x1f \x85\xa0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000]+$/g;
const VERIFYING_STATUSES = new Set(['active', 'verify']);

export class InvalidToken extends Error {}

/** Accept a bare token or the whole URL a QR code holds (the part after the last "/v/"). */
export function tokenFromText(text) {
  const stripped = String(text).replace(PY_SPACE, '');
  const at = stripped.lastIndexOf('/v/');
  return at >= 0 ? stripped.slice(at + 3) : stripped;
}

/** Return the bytes of a token's base64url text; refuse anything that is not its one canonical spelling. */
export function tokenBytes(token) {
  if (typeof token !== 'string' || !token || token.length > MAX_TOKEN_CHARS || !/^[\x00-\x7f]*$/.test(token)) {
    throw new InvalidToken('not a token');
  }
  const values = [];
  for (const char of token) {
    const value = B64URL_VALUE.get(char);
    if (value === undefined) throw new InvalidToken('not canonical base64url');
    values.push(value);
  }
  if (values.length % 4 === 1) throw new InvalidToken('not base64url');
  const bytes = new Uint8Array(Math.floor((values.length * 6) / 8));
  let buffer = 0;
  let bits = 0;
  let out = 0;
  for (const value of values) {
    buffer = ((buffer << 6) | value) & 0xffffff;
    bits += 6;
    if (bits >= 8) {
      bits -= 8;
      bytes[out++] = (buffer >> bits) & 0xff;
    }
  }
  // The spare bits of the last character must be zero, or two texts would spell the same bytes.
  if (buffer & ((1 << bits) - 1)) throw new InvalidToken('not canonical base64url');
  return bytes;
}

export function base64urlDecode(text) {
  return tokenBytes(text);
}

function hex(bytes) {
  return [...bytes].map((byte) => byte.toString(16).padStart(2, '0')).join('');
}

/** Return kid -> raw public key (32 bytes) for the keys whose tokens verify (active and verify-only). */
export function verifyingKeys(document) {
  const keys = new Map();
  for (const item of (document && document.keys) || []) {
    if ((item.alg || 'Ed25519') !== 'Ed25519' || !VERIFYING_STATUSES.has(item.status)) continue;
    const raw = base64urlDecode(item.public_key);
    if (raw.length === 32) keys.set(String(item.kid), raw);
  }
  return keys;
}

class BitReader {
  constructor(bytes) {
    this.bytes = bytes;
    this.position = 0;
    this.length = bytes.length * 8;
  }

  read(bits) {
    if (bits > this.length - this.position) throw new InvalidToken('token too short');
    let value = 0;
    for (let i = 0; i < bits; i += 1) {
      const bit = (this.bytes[this.position >> 3] >> (7 - (this.position & 7))) & 1;
      value = value * 2 + bit;
      this.position += 1;
    }
    return value;
  }

  finish() {
    const remaining = this.length - this.position;
    // Only the zero padding of the last byte may be left: anything more is not our encoding.
    if (remaining >= 8 || (remaining && this.read(remaining) !== 0)) {
      throw new InvalidToken('unexpected data after the payload');
    }
  }
}

function readText(reader) {
  let text = '';
  for (let count = reader.read(5); count > 0; count -= 1) {
    const code = reader.read(6);
    if (code >= TEXT_ALPHABET.length) throw new InvalidToken('bad character');
    text += TEXT_ALPHABET[code];
  }
  return text;
}

/** Check a token's signature against `keys` (from verifyingKeys) and return what it says. */
export function decodeToken(token, keys) {
  const raw = tokenBytes(token);
  if (raw.length < HEADER_BYTES + SIGNATURE_BYTES) throw new InvalidToken('token too short');
  if (raw[0] !== FORMAT_V1) throw new InvalidToken('unknown token format');
  const kid = hex(raw.subarray(1, HEADER_BYTES));
  const key = keys.get(kid);
  if (!key) throw new InvalidToken('unknown or retired key');
  const message = raw.subarray(0, raw.length - SIGNATURE_BYTES);
  const signature = raw.subarray(raw.length - SIGNATURE_BYTES);
  let holds = false;
  try {
    // RFC 8032 strict (canonical encodings, S < L), as OpenSSL checks on the server.
    holds = ed25519.verify(signature, message, key, { zip215: false });
  } catch (error) {
    holds = false;
  }
  if (!holds) throw new InvalidToken('bad signature');
  return parse(raw.subarray(HEADER_BYTES, raw.length - SIGNATURE_BYTES), kid);
}

function parse(body, kid) {
  const reader = new BitReader(body);
  const version = reader.read(16);
  const validFrom = reader.read(16);
  const validUntil = reader.read(16);
  const windows = [];
  for (let count = reader.read(3); count > 0; count -= 1) {
    const start = reader.read(11);
    const end = reader.read(11);
    const direction = reader.read(1);
    if (start >= 24 * 60 || end >= 24 * 60) throw new InvalidToken('bad window');
    windows.push({ start, end, direction: direction ? 'to_home' : 'to_work' });
  }
  const serial = readText(reader);
  const unit = readText(reader);
  const name = readText(reader);
  reader.finish();
  if (version < 1 || !serial) throw new InvalidToken('bad payload');
  return { serial, version, unit, validFromDay: validFrom, validUntilDay: validUntil, windows, name, kid };
}

/** Return the revocation state phones keep: revoked serials and the current version of superseded ones. */
export function revocationState(list) {
  return {
    version: (list && list.version) || 0,
    revoked: new Set((list && list.revoked) || []),
    superseded: new Map((list && list.superseded) || []),
  };
}

/** HCMC calendar day (days since 2020-01-01) and second of the day of an instant (ms since 1970). */
export function hcmcMoment(nowMs) {
  const local = nowMs + HCMC_OFFSET_MS;
  const day = Math.floor(local / DAY_MS);
  return { day: day - EPOCH_DAY, second: Math.floor((local - day * DAY_MS) / 1000) };
}

/** The calendar date (UTC fields = HCMC date) of a token day. */
export function dayToDate(day) {
  return new Date((day + EPOCH_DAY) * DAY_MS);
}

function windowContains(window, second) {
  const start = window.start * 60;
  const end = window.end * 60;
  if (start <= end) return start <= second && second <= end;
  return second >= start || second <= end; // the window crosses midnight
}

/**
 * Judge a genuine token's payload at `nowMs` against the revocation state, in HCMC time.
 * `outcomes` is the set of outcome codes the portal defines: a card whose first day has not come is
 * "not_yet_valid" when the portal has that outcome, else "expired" (as the portal itself says).
 */
export function judge(payload, state, nowMs, outcomes) {
  if (state.revoked.has(payload.serial)) return 'revoked';
  const current = state.superseded.get(payload.serial);
  if (current !== undefined && payload.version < current) return 'superseded';
  const { day, second } = hcmcMoment(nowMs);
  if (day < payload.validFromDay) return outcomes && outcomes.has('not_yet_valid') ? 'not_yet_valid' : 'expired';
  if (day > payload.validUntilDay) return 'expired';
  return payload.windows.some((window) => windowContains(window, second)) ? 'valid' : 'outside_window';
}

/** Verify the text of a QR code or a pasted link: {outcome, reason, payload (null when invalid)}. */
export function verify(text, keys, state, nowMs, outcomes) {
  let payload;
  try {
    payload = decodeToken(tokenFromText(text), keys);
  } catch (error) {
    if (error instanceof InvalidToken) return { outcome: 'invalid', reason: error.message, payload: null };
    throw error;
  }
  return { outcome: judge(payload, state, nowMs, outcomes), reason: '', payload };
}
