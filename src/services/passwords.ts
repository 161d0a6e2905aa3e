import { randomBytes, scrypt, timingSafeEqual, type ScryptOptions } from "node:crypto";

/** OWASP's scrypt floor: N=2^17, r=8, p=1 (about 128 MiB and ~100 ms per hash). Every new hash in production. */
export const PRODUCTION_COST = { N: 2 ** 17, r: 8, p: 1 } as const;
let PARAMS: { N: number; r: number; p: number } = PRODUCTION_COST;

/**
 * For the test suite only (test/support/setup.ts): new hashes use N=2^10 so files that create many
 * staff stay quick. Nothing in src/ calls it, so the server and the CLI always hash at PRODUCTION_COST;
 * `verifyPassword` reads the cost from each stored hash either way.
 */
export function useCheapHashingForTests(): void {
  PARAMS = { N: 2 ** 10, r: 8, p: 1 };
}
const KEY_LENGTH = 64;

function derive(password: string, salt: Buffer, params: { N: number; r: number; p: number }): Promise<Buffer> {
  const options: ScryptOptions = { ...params, maxmem: 256 * params.N * params.r };
  return new Promise((resolve, reject) =>
    scrypt(password.normalize("NFKC"), salt, KEY_LENGTH, options, (error, key) => (error ? reject(error) : resolve(key))),
  );
}

/** Hashes a password with scrypt and a random salt: "scrypt$N$r$p$salt$hash" (base64). */
export async function hashPassword(password: string, params: { N: number; r: number; p: number } = PARAMS): Promise<string> {
  const salt = randomBytes(16);
  const key = await derive(password, salt, params);
  return ["scrypt", params.N, params.r, params.p, salt.toString("base64"), key.toString("base64")].join("$");
}

/** Checks a password against a stored hash in constant time; false for any malformed hash. */
export async function verifyPassword(password: string, stored: string): Promise<boolean> {
  const [scheme, n, r, p, salt, hash] = stored.split("$");
  if (scheme !== "scrypt" || !n || !r || !p || !salt || !hash) return false;
  const expected = Buffer.from(hash, "base64");
  const actual = await derive(password, Buffer.from(salt, "base64"), { N: Number(n), r: Number(r), p: Number(p) });
  return actual.length === expected.length && timingSafeEqual(actual, expected);
}
