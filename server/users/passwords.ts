/** Password hashing with Argon2id (@node-rs/argon2, prebuilt binaries, no install step). */
import { hash, verify } from "@node-rs/argon2";

export function hashPassword(password: string): Promise<string> {
  // Library defaults: Argon2id, m=19 MiB, t=2, p=1 (OWASP's baseline).
  return hash(password);
}

export async function verifyPassword(passwordHash: string, password: string): Promise<boolean> {
  try {
    return await verify(passwordHash, password);
  } catch {
    return false; // malformed hash: treat as a failed sign-in, never as a crash
  }
}
