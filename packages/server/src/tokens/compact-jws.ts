import { type KeyObject, sign } from 'node:crypto';

/**
 * A compact JWS (RFC 7515 §7.1) signed on the spot with `node:crypto`'s synchronous `sign`.
 *
 * jose signs through WebCrypto, which hands every signature to libuv's thread pool and back: a
 * promise, a thread hop and a copy per access token. The signature itself is the same OpenSSL
 * call either way, so issuing signs here, in the request's turn of the event loop; everything
 * that verifies or parses JOSE stays with jose. The bytes are what `jose.SignJWT` makes for the
 * same header and claims (the test `compact-jws.test.ts` verifies a large sample with
 * `jose.jwtVerify` and compares them with jose's output for every supported algorithm).
 */
export interface CompactSigner {
  /** `header.payload.signature` of `payload` (already JSON), with this signer's protected header. */
  sign(payloadJson: string): string;
}

type Params = { digest: string | null; dsaEncoding?: 'ieee-p1363' };

/** The `node:crypto` parameters of a JWS algorithm, checked against the key's type. */
function paramsFor(alg: string, key: KeyObject): Params {
  const type = key.asymmetricKeyType;
  switch (alg) {
    case 'ES256':
      if (type !== 'ec' || key.asymmetricKeyDetails?.namedCurve !== 'prime256v1') break;
      // JWS wants r‖s (IEEE P1363), not the DER OpenSSL emits by default.
      return { digest: 'sha256', dsaEncoding: 'ieee-p1363' };
    case 'EdDSA':
      if (type !== 'ed25519' && type !== 'ed448') break;
      return { digest: null };
    case 'RS256':
      // RSASSA-PKCS1-v1_5 is node:crypto's default padding for RSA keys.
      if (type !== 'rsa') break;
      return { digest: 'sha256' };
    default:
      throw new Error(`cannot sign JWS algorithm ${alg}`);
  }
  throw new Error(`the signing key (${type ?? 'unknown type'}) does not fit JWS algorithm ${alg}`);
}

/** A signer whose protected header is `header` (serialised once, in its key order). */
export function compactSigner(
  header: { alg: string } & Record<string, unknown>,
  key: KeyObject,
): CompactSigner {
  if (key.type !== 'private') throw new Error('a JWS is signed with a private key');
  const { digest, dsaEncoding } = paramsFor(header.alg, key);
  const signingKey = dsaEncoding ? { key, dsaEncoding } : key;
  const encodedHeader = `${Buffer.from(JSON.stringify(header)).toString('base64url')}.`;
  return {
    sign(payloadJson: string): string {
      const input = encodedHeader + Buffer.from(payloadJson).toString('base64url');
      const signature = sign(digest, Buffer.from(input), signingKey);
      return `${input}.${signature.toString('base64url')}`;
    },
  };
}

/**
 * The access tokens asked for in one turn of the event loop, signed one after another at its end.
 * An ECDSA signature reads OpenSSL's precomputed tables of its curve; signed between two requests'
 * worth of other work, it finds them out of the CPU's caches and costs about a third more.
 */
export class SignatureBurst {
  private pending: {
    signer: CompactSigner;
    payload: string;
    resolve: (jws: string) => void;
    reject: (err: unknown) => void;
  }[] = [];

  sign(signer: CompactSigner, payload: string): Promise<string> {
    return new Promise((resolve, reject) => {
      this.pending.push({ signer, payload, resolve, reject });
      if (this.pending.length === 1) setImmediate(() => this.flush());
    });
  }

  private flush(): void {
    const batch = this.pending;
    this.pending = [];
    for (const job of batch) {
      try {
        job.resolve(job.signer.sign(job.payload));
      } catch (err) {
        job.reject(err);
      }
    }
  }
}
