/**
 * Auth.js (next-auth v5 on @auth/core) with the Prisma adapter and an email +
 * password sign-in. Auth.js keeps a password sign-in in a JWT cookie; the JWT
 * carries the id of a UserSession row that every request checks
 * (server/auth/sessions.ts, docs/decisions/0008-revocable-sessions.md), so
 * signing out, a password change or "sign out everywhere" takes effect at
 * once on every web instance, wherever `auth()` is called. The user's role,
 * name and email are re-read with the session on every request.
 */
import "server-only";
import { PrismaAdapter } from "@auth/prisma-adapter";
import { CredentialsSignin } from "@auth/core/errors";
import Credentials from "@auth/core/providers/credentials";
import type { OIDCConfig } from "@auth/core/providers/oauth";
import type { DefaultSession } from "@auth/core/types";
import NextAuth from "next-auth";
import { cookies, headers } from "next/headers";
import { clientAddressOf } from "../http/client-address.ts";
import { getServices } from "../app-services.ts";
import { throttledCode } from "./messages.ts";
import { atPublicOrigin } from "./public-origin.ts";
import { checkSession, revokeSession, SESSION_MAX_AGE_SECONDS, startSession } from "./sessions.ts";
import { recordRefusedSignIn, recordSsoSignIn, signInWithPassword } from "./sign-in.ts";
import { completeSsoSignUp, decideSsoSignIn, INVITATION_COOKIE } from "./sso.ts";
import { logger } from "../logging/logger.ts";

declare module "@auth/core/types" {
  interface Session {
    user: { id: string; role: "member" | "admin" } & DefaultSession["user"];
    /** The UserSession row this browser is signed in with. */
    sessionId: string;
  }
}

declare module "@auth/core/jwt" {
  interface JWT {
    /** UserSession id: the session is live only while that row is. */
    sid?: string;
    role?: "member" | "admin";
  }
}

/** A refused password sign-in; `code` says why (server/auth/messages.ts), never whether the account exists. */
class SignInRefused extends CredentialsSignin {
  constructor(code: string) {
    super();
    this.code = code;
  }
}

interface OidcProfile {
  sub: string;
  email?: string;
  email_verified?: boolean;
  /** Google Workspace's hosted domain. */
  hd?: string;
  name?: string;
  preferred_username?: string;
}

/** The invitation link a single sign-on started from (the invitation page sets it), if any. */
async function carriedInvitationToken(): Promise<string | null> {
  try {
    return (await cookies()).get(INVITATION_COOKIE)?.value ?? null;
  } catch {
    return null;
  }
}

async function requestOrigin(): Promise<{ userAgent: string | null; clientAddress: string | null }> {
  try {
    const h = await headers();
    return { userAgent: h.get("user-agent"), clientAddress: clientAddressOf(h) };
  } catch {
    return { userAgent: null, clientAddress: null }; // outside a request
  }
}

/**
 * Auth.js's `/api/auth/*` route handlers, given the request at the portal's public address
 * (server/auth/public-origin.ts); an AUTH_URL set by the operator is left to next-auth.
 */
const atPortalAddress = async (req: Request) => (process.env.AUTH_URL || process.env.NEXTAUTH_URL ? req : atPublicOrigin(req, getServices().config.publicBaseUrl));
export const authRoutes = {
  GET: async (req: Request) => handlers.GET((await atPortalAddress(req)) as Parameters<typeof handlers.GET>[0]),
  POST: async (req: Request) => handlers.POST((await atPortalAddress(req)) as Parameters<typeof handlers.POST>[0]),
};

export const { handlers, auth, signIn, signOut } = NextAuth(() => {
  const { db, config } = getServices();
  const sso = config.sso;
  const oidc: OIDCConfig<OidcProfile> | null = sso
    ? {
        id: "oidc",
        name: sso.name,
        type: "oidc",
        issuer: sso.issuer,
        clientId: sso.clientId,
        clientSecret: sso.clientSecret,
        checks: ["pkce", "state", "nonce"],
        // The claims (email, email_verified) from the userinfo endpoint: conforming providers need not put them in the ID token.
        idToken: false,
        // The portal decides who may enter (callbacks.signIn), by verified email: linking by it is safe here.
        allowDangerousEmailAccountLinking: true,
        profile: (p) => ({ id: p.sub, email: p.email?.trim().toLowerCase(), name: p.name ?? p.preferred_username ?? null }),
        // The provider's tokens are not kept: the portal only needs to know who signed in.
        account: () => ({}),
      }
    : null;
  return {
    adapter: PrismaAdapter(db),
    secret: config.authSecret,
    trustHost: true,
    session: { strategy: "jwt", maxAge: SESSION_MAX_AGE_SECONDS },
    pages: { signIn: "/signin", error: "/signin" },
    logger: {
      // A wrong password is an everyday event, not an error with a stack trace.
      error(error: Error) {
        if (error.name === "CredentialsSignin" || (error as { type?: string }).type === "CredentialsSignin") return;
        logger().error({ err: error }, "sign-in error");
      },
    },
    providers: [
      Credentials({
        credentials: { email: { label: "Email", type: "email" }, password: { label: "Password", type: "password" } },
        authorize: async (credentials, request) => {
          const result = await signInWithPassword(
            { db, throttle: config.signInThrottle, passwordSignIn: config.passwordSignIn },
            { email: credentials?.email, password: credentials?.password, clientAddress: clientAddressOf(request.headers) },
          );
          if (result.ok) return { id: result.user.id, email: result.user.email, name: result.user.name };
          if (result.reason === "throttled") throw new SignInRefused(throttledCode(result.retryAfterSeconds));
          if (result.reason !== "wrong_credentials") throw new SignInRefused(result.reason);
          return null;
        },
      }),
      ...(oidc ? [oidc] : []),
    ],
    callbacks: {
      async signIn({ account, profile }) {
        if (account?.provider !== "oidc" || !sso) return true; // passwords are decided in authorize()
        const decision = await decideSsoSignIn(
          db,
          sso,
          { providerAccountId: account.providerAccountId, email: profile?.email, emailVerified: profile?.email_verified, hd: profile?.hd },
          { invitationToken: await carriedInvitationToken() },
        );
        if (decision.ok) return true;
        const email = typeof profile?.email === "string" ? profile.email.toLowerCase().slice(0, 320) : "";
        await recordRefusedSignIn(db, { email, userId: null, clientAddress: (await requestOrigin()).clientAddress, outcome: `sso_${decision.reason}` }, new Date());
        // Back to the sign-in page, which says why (server/auth/messages.ts).
        return `/signin?error=AccessDenied&code=${decision.reason}`;
      },
      async jwt({ token, user, account, trigger }) {
        if (user?.id) {
          // Just signed in: a new session row, named by the cookie from now on.
          const origin = await requestOrigin();
          if (account?.provider === "oidc" && user.email) {
            // Only a new account takes an invitation's role; signing in never changes an existing one's.
            if (trigger === "signUp") await completeSsoSignUp(db, { id: user.id, email: user.email }, { invitationToken: await carriedInvitationToken() });
            await recordSsoSignIn(db, { id: user.id, email: user.email }, origin.clientAddress);
          }
          token.sid = await startSession(db, user.id, origin);
          token.sub = user.id;
          return token;
        }
        const current = await checkSession(db, token.sid);
        if (!current) return null; // revoked, expired or unknown: signed out (the cookie is cleared where it can be)
        token.sub = current.id;
        token.role = current.role;
        token.email = current.email;
        token.name = current.name;
        return token;
      },
      session({ session, token }) {
        session.user.id = token.sub ?? "";
        session.user.role = token.role === "admin" ? "admin" : "member";
        session.user.email = token.email ?? "";
        session.user.name = token.name ?? null;
        session.sessionId = token.sid ?? "";
        return session;
      },
    },
    events: {
      async signOut(message) {
        const sid = "token" in message ? message.token?.sid : undefined;
        if (sid) await revokeSession(db, sid, "signed_out");
      },
    },
  };
});
