/**
 * One-time links (invitations, password resets): a random token in the link,
 * only its SHA-256 in the database, so a copy of the database opens nothing.
 */
import { createHash, randomBytes } from "node:crypto";

export function newLinkToken(): { token: string; tokenHash: string } {
  const token = randomBytes(32).toString("base64url");
  return { token, tokenHash: hashLinkToken(token) };
}

export function hashLinkToken(token: string): string {
  return createHash("sha256").update(token).digest("hex");
}

/** Whether a string could be one of our tokens at all (43 base64url characters), before any lookup. */
export function isLinkTokenShaped(token: string): boolean {
  return /^[A-Za-z0-9_-]{43}$/.test(token);
}

export function linkFor(publicBaseUrl: string, kind: "invite" | "reset", token: string): string {
  return `${publicBaseUrl.replace(/\/+$/, "")}/${kind}/${token}`;
}
