/**
 * The session of a request read straight from its Auth.js cookie, for the
 * tRPC endpoint: the cookie's JWT is decrypted (as Auth.js does, same secret
 * and salt) and its UserSession row checked with the user (checkSession,
 * one query), the same check Auth.js's jwt callback makes (auth.ts). Unlike
 * `auth()`, it does not build a session response and encrypt a new cookie on
 * every call: a tRPC call never needs one (the row's expiry, not the
 * cookie's, ends a session; pages still refresh the cookie through `auth()`).
 */
import { decode, type JWT } from "@auth/core/jwt";
import type { Db } from "../db/client.ts";
import type { CurrentSession } from "./current-user.ts";
import { checkSession } from "./sessions.ts";

/** Auth.js's session cookie names: over https (the `__Secure-` prefix) and plain http. */
const COOKIE_NAMES = ["__Secure-authjs.session-token", "authjs.session-token"] as const;

function parseCookies(header: string | null): Map<string, string> {
  const out = new Map<string, string>();
  for (const part of (header ?? "").split(";")) {
    const eq = part.indexOf("=");
    if (eq <= 0) continue;
    const name = part.slice(0, eq).trim();
    if (!out.has(name)) out.set(name, part.slice(eq + 1).trim());
  }
  return out;
}

/** The cookie's value, joined from Auth.js's chunks (`name.0`, `name.1`, …) when it was split. */
function cookieValue(cookies: Map<string, string>, name: string): string | null {
  const whole = cookies.get(name);
  if (whole) return whole;
  const chunks: string[] = [];
  for (let i = 0; cookies.has(`${name}.${i}`); i++) chunks.push(cookies.get(`${name}.${i}`)!);
  return chunks.length > 0 ? chunks.join("") : null;
}

type Payload = JWT;

/**
 * Decrypted cookies, by their exact text: deriving the key (HKDF) and
 * decrypting the JWE on every call was 8 % of a history request's CPU. The
 * same cookie always decrypts to the same claims, so a hit only re-checks
 * the expiry that `decode` checks; the session row is still read on every
 * call (a revoked session ends at once). Bounded: the oldest entry goes.
 */
const decoded = new Map<string, { secret: string; salt: string; payload: Payload }>();
const DECODED_MAX = 1000;

async function decodeOnce(token: string, secret: string, salt: string): Promise<Payload | null> {
  const hit = decoded.get(token);
  if (hit && hit.secret === secret && hit.salt === salt) {
    const exp = hit.payload.exp;
    if (typeof exp === "number" && exp * 1000 > Date.now()) return hit.payload;
    decoded.delete(token);
  }
  const payload = await decode({ token, secret, salt }).catch(() => null);
  if (!payload) return null;
  // Only claims with an expiry are kept (Auth.js always sets one).
  if (typeof payload.exp === "number") {
    if (decoded.size >= DECODED_MAX) decoded.delete(decoded.keys().next().value!);
    decoded.set(token, { secret, salt, payload });
  }
  return payload;
}

export async function sessionOfRequest(deps: { db: Db; secret: string }, headers: Headers): Promise<CurrentSession | null> {
  const cookies = parseCookies(headers.get("cookie"));
  for (const name of COOKIE_NAMES) {
    const token = cookieValue(cookies, name);
    if (!token) continue;
    const payload = await decodeOnce(token, deps.secret, name);
    if (!payload) continue;
    const user = await checkSession(deps.db, payload.sid);
    return user && typeof payload.sid === "string" ? { user, sessionId: payload.sid } : null;
  }
  return null;
}
