import { randomBytes, scrypt, timingSafeEqual } from 'node:crypto';
import { DEFAULTS } from '../config/defaults.js';

/**
 * Password hashing with scrypt (memory-hard), OWASP parameters by default: N=2^17, r=8, p=1.
 * The format `scrypt$<log2 N>$<r>$<p>$<salt>$<hash>` keeps the parameters with each hash, so
 * raising the cost later does not lock anybody out.
 */
export async function hashPassword(
  password: string,
  logN: number = DEFAULTS.passwordHashCost,
): Promise<string> {
  const salt = randomBytes(16);
  const hash = await derive(password, salt, logN, 8, 1);
  return `scrypt$${logN}$8$1$${salt.toString('base64url')}$${hash.toString('base64url')}`;
}

/** Constant-time check of `password` against a stored hash. */
export async function verifyPassword(password: string, stored: string): Promise<boolean> {
  const parts = stored.split('$');
  if (parts.length !== 6 || parts[0] !== 'scrypt') return false;
  const [, logN, r, p, salt, expected] = parts as [string, string, string, string, string, string];
  const want = Buffer.from(expected, 'base64url');
  const got = await derive(password, Buffer.from(salt, 'base64url'), Number(logN), Number(r), Number(p));
  return got.length === want.length && timingSafeEqual(got, want);
}

const dummies = new Map<number, Promise<string>>();

/**
 * A hash of a random password at cost `logN`, to spend the same time when the user does not
 * exist: one per cost, made once. The server makes it at start, so even the first login for an
 * unknown user costs one hash, like any other login, not two.
 */
export function dummyPasswordHash(logN: number): Promise<string> {
  let dummy = dummies.get(logN);
  if (dummy === undefined) {
    dummy = hashPassword(randomBytes(16).toString('base64url'), logN);
    dummies.set(logN, dummy);
  }
  return dummy;
}

function derive(password: string, salt: Buffer, logN: number, r: number, p: number): Promise<Buffer> {
  const N = 2 ** logN;
  return new Promise((resolve, reject) => {
    scrypt(password.normalize('NFC'), salt, 32, { N, r, p, maxmem: 256 * N * r + 1024 * 1024 }, (err, key) =>
      err ? reject(err) : resolve(key),
    );
  });
}
