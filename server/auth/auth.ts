/**
 * Auth.js (next-auth v5) with the Prisma adapter and an email + password
 * sign-in. Credentials sign-in requires JWT sessions in Auth.js; the user's
 * role is re-read from the database on every tRPC call (server/api/trpc.ts),
 * so a demoted admin loses access at once.
 */
import { PrismaAdapter } from "@auth/prisma-adapter";
import NextAuth, { type DefaultSession } from "next-auth";
import Credentials from "next-auth/providers/credentials";
import { getServices } from "../services.ts";
import { verifyCredentials } from "../users/users.ts";

declare module "next-auth" {
  interface Session {
    user: { id: string; role: "member" | "admin" } & DefaultSession["user"];
  }
}

export const { handlers, auth, signIn, signOut } = NextAuth(() => {
  const { db, config } = getServices();
  return {
    adapter: PrismaAdapter(db),
    secret: config.authSecret,
    trustHost: true,
    session: { strategy: "jwt", maxAge: 30 * 24 * 3600 },
    pages: { signIn: "/signin" },
    logger: {
      // A wrong password is an everyday event, not an error with a stack trace.
      error(error: Error) {
        if (error.name === "CredentialsSignin" || (error as { type?: string }).type === "CredentialsSignin") console.warn("sign-in refused: wrong email or password");
        else console.error("[auth]", error);
      },
    },
    providers: [
      Credentials({
        credentials: { email: { label: "Email", type: "email" }, password: { label: "Password", type: "password" } },
        authorize: async (credentials) => {
          const user = await verifyCredentials(db, credentials?.email, credentials?.password);
          return user && { id: user.id, email: user.email, name: user.name, role: user.role };
        },
      }),
    ],
    callbacks: {
      jwt({ token, user }) {
        if (user) {
          token.sub = user.id;
          token.role = (user as { role?: string }).role;
        }
        return token;
      },
      session({ session, token }) {
        session.user.id = token.sub ?? "";
        session.user.role = token.role === "admin" ? "admin" : "member";
        return session;
      },
    },
  };
});
