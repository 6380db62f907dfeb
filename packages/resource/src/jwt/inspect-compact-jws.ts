import { base64url } from 'jose';
import { parseStrictJson } from './parse-strict-json.js';

/** A JWS compact token whose parts decoded cleanly; nothing is verified yet. */
export interface InspectedJws {
  header: Record<string, unknown>;
  payload: Record<string, unknown>;
}

/** Why the structure was refused (the caller turns it into a 401). */
export class MalformedTokenError extends Error {
  override name = 'MalformedTokenError';
}

const SEGMENT = /^[A-Za-z0-9_-]+$/;
const utf8 = new TextDecoder('utf-8', { fatal: true });

/**
 * Decodes one base64url segment, refusing every non-canonical spelling (padding, `+`/`/`,
 * non-zero trailing bits), so one byte string has one accepted text.
 */
export function decodeCanonicalSegment(segment: string): Uint8Array {
  if (!SEGMENT.test(segment) || segment.length % 4 === 1) {
    throw new MalformedTokenError('The access token is not valid base64url');
  }
  let bytes: Uint8Array;
  try {
    bytes = base64url.decode(segment);
  } catch {
    throw new MalformedTokenError('The access token is not valid base64url');
  }
  if (base64url.encode(bytes) !== segment) {
    throw new MalformedTokenError('The access token is not canonical base64url');
  }
  return bytes;
}

export function decodeJsonSegment(segment: string, what: string, maxDepth: number): Record<string, unknown> {
  let text: string;
  try {
    text = utf8.decode(decodeCanonicalSegment(segment));
  } catch (e) {
    if (e instanceof MalformedTokenError) throw e;
    throw new MalformedTokenError(`The access token ${what} is not UTF-8`);
  }
  const value = parseStrictJson(text, maxDepth);
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw new MalformedTokenError(
      `The access token ${what} is not a JSON object (or repeats a key, or nests too deep)`,
    );
  }
  return value as Record<string, unknown>;
}

/** The three parts of a compact JWS, with the signature decoded; header and payload not yet. */
export interface SplitJws {
  headerSegment: string;
  payloadSegment: string;
  /** `header.payload`, as signed. */
  signingInput: string;
  /**
   * The signature segment, already checked to be the canonical base64url of `signature` (one
   * spelling per byte string): the verified-token cache key.
   */
  signatureSegment: string;
  signature: Uint8Array;
}

/** Splits a three-part compact JWS and checks the signature's encoding; trusts nothing. */
export function splitCompactJws(token: string): SplitJws {
  const parts = token.split('.');
  if (parts.length !== 3) throw new MalformedTokenError('The access token is not a compact JWS');
  const [h, p, s] = parts as [string, string, string];
  const signature = decodeCanonicalSegment(s);
  return {
    headerSegment: h,
    payloadSegment: p,
    signingInput: `${h}.${p}`,
    signatureSegment: s,
    signature,
  };
}

/** Decodes header and payload of a split JWS. */
export function decodeJws(split: SplitJws, maxDepth: number): InspectedJws {
  return {
    header: decodeJsonSegment(split.headerSegment, 'header', maxDepth),
    payload: decodeJsonSegment(split.payloadSegment, 'payload', maxDepth),
  };
}
