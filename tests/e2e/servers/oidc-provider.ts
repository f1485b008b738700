/**
 * A real OpenID Connect provider for the browser tests (panva's
 * oidc-provider, the certified implementation), on loopback: the portal's
 * single sign-on is tested against it end to end, not against a mock of
 * Auth.js. Its development login page takes any login; the login is the
 * account's email, and emails ending in "unverified" are sent unverified.
 *
 *   OIDC_PORT          the port to listen on (default: the tests' OIDC.port)
 *   OIDC_REDIRECT_URI  the portal's callback (default: the main server's)
 */
import Provider from "oidc-provider";
import { MAIN, OIDC } from "../instances.ts";

const port = Number(process.env.OIDC_PORT ?? OIDC.port);
const redirectUri = process.env.OIDC_REDIRECT_URI ?? `${MAIN.baseURL}/api/auth/callback/oidc`;
const issuer = `http://127.0.0.1:${port}`;

const provider: Provider = new Provider(issuer, {
  clients: [
    {
      client_id: OIDC.clientId,
      client_secret: OIDC.clientSecret,
      redirect_uris: [redirectUri],
      response_types: ["code"],
      grant_types: ["authorization_code"],
    },
  ],
  claims: { openid: ["sub"], email: ["email", "email_verified"], profile: ["name"] },
  findAccount: async (_ctx, id) => ({
    accountId: id,
    claims: async () => ({ sub: id, email: id.replace(/\+unverified$/, ""), email_verified: !id.endsWith("+unverified"), name: id.split("@")[0] }),
  }),
  features: { devInteractions: { enabled: true } },
  cookies: { keys: ["e2e-oidc-cookie-key-0123456789abcdef"] },
  // Consent is not the portal's concern here: every scope asked is granted.
  loadExistingGrant: async (ctx): Promise<InstanceType<Provider["Grant"]>> => {
    const grant = new provider.Grant({ clientId: ctx.oidc.client!.clientId, accountId: ctx.oidc.session!.accountId! });
    grant.addOIDCScope("openid email profile");
    await grant.save();
    return grant;
  },
});
provider.proxy = false;

const server = provider.listen(port, "127.0.0.1", () => console.log(`OIDC provider for the browser tests at ${issuer}`));
for (const signal of ["SIGINT", "SIGTERM"] as const) process.on(signal, () => server.close(() => process.exit(0)));
