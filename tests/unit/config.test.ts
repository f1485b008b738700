import { describe, expect, it } from "vitest";
import { ConfigError, httpMediaOrigins, loadConfig, loadRuntimeConfig } from "@/server/config.ts";

describe("configuration", () => {
  it("needs nothing: embedded database, simulator, generated secret", () => {
    const c = loadConfig({});
    expect(c.databaseUrl).toBeUndefined();
    expect(c.provider.apiKey).toBeUndefined();
    expect(c.provider.baseUrl).toBe("https://api.evolink.ai");
    expect(c.publicBaseUrl).toBe("http://localhost:3000");
    expect(c.prices.perSecond).toEqual({ "720p": 0.086, "1080p": 0.144 });
  });

  it("derives the public URL from PORT and treats empty values as unset", () => {
    const c = loadConfig({ PORT: "4000", DATABASE_URL: "", PUBLIC_BASE_URL: "" });
    expect(c.publicBaseUrl).toBe("http://localhost:4000");
    expect(c.databaseUrl).toBeUndefined();
  });

  it("names every invalid variable", () => {
    expect(() => loadConfig({ DATABASE_URL: "mysql://x", PORT: "http", AUTH_SECRET: "short" })).toThrow(ConfigError);
    try {
      loadConfig({ DATABASE_URL: "mysql://x", PORT: "http", AUTH_SECRET: "short" });
    } catch (e) {
      expect((e as Error).message).toMatch(/DATABASE_URL/);
      expect((e as Error).message).toMatch(/PORT/);
      expect((e as Error).message).toMatch(/AUTH_SECRET/);
    }
  });

  it("listens on this machine only unless told, and checks the hardening settings", () => {
    const c = loadConfig({});
    expect(c.host).toBe("127.0.0.1");
    expect(c.trustedProxies).toBe("");
    expect(c.signInThrottle.account).toEqual({ freeFailures: 5, maxDelaySeconds: 300 });
    expect(loadConfig({ TRUSTED_PROXIES: "loopback, 10.0.0.0/8", SIGNIN_ACCOUNT_FREE_FAILURES: "3" }).signInThrottle.account.freeFailures).toBe(3);
    expect(() => loadConfig({ TRUSTED_PROXIES: "proxy.internal" })).toThrow(/TRUSTED_PROXIES/);
    expect(() => loadConfig({ SIGNIN_ADDRESS_MAX_DELAY_SECONDS: "0" })).toThrow(/SIGNIN_ADDRESS_MAX_DELAY_SECONDS/);
  });

  it("single sign-on needs its three settings together, and turns password sign-in off for members only when on", () => {
    expect(loadConfig({}).sso).toBeUndefined();
    expect(() => loadConfig({ OIDC_ISSUER: "https://idp.example" })).toThrow(/OIDC_ISSUER, OIDC_CLIENT_ID and OIDC_CLIENT_SECRET together/);
    const sso = loadConfig({ OIDC_ISSUER: "https://idp.example", OIDC_CLIENT_ID: "c", OIDC_CLIENT_SECRET: "s", OIDC_ALLOWED_DOMAINS: "Acme.example, @corp.example", PASSWORD_SIGNIN: "admins" });
    expect(sso.sso).toMatchObject({ issuer: "https://idp.example", name: "single sign-on", allowedDomains: ["acme.example", "corp.example"] });
    expect(sso.passwordSignIn).toBe("admins");
    expect(loadConfig({ PASSWORD_SIGNIN: "admins" }).passwordSignIn).toBe("everyone"); // no SSO: nobody is locked out
    expect(loadConfig({ SMTP_URL: "smtp://u:p@mail.example:587" }).team.mail).toMatchObject({ smtpUrl: "smtp://u:p@mail.example:587" });
    expect(() => loadConfig({ SMTP_URL: "http://mail.example" })).toThrow(/SMTP_URL/);
  });

  it("the web process refuses to run with unresolved settings, saying how to start", () => {
    expect(() => loadRuntimeConfig({})).toThrow(/Missing DATABASE_URL, AUTH_SECRET, EVOLINK_API_KEY.*npm start/);
    const ok = loadRuntimeConfig({ DATABASE_URL: "postgresql://u:p@localhost/db", AUTH_SECRET: "x".repeat(32), EVOLINK_API_KEY: "k" });
    expect(ok.databaseUrl).toBe("postgresql://u:p@localhost/db");
  });
});

describe("httpMediaOrigins (the one place that lists the http origins of a configuration)", () => {
  it("lists none with the real provider", () => {
    expect(httpMediaOrigins(loadConfig({ EVOLINK_SIMULATOR: "0" }))).toEqual({ request: [], fetch: [] });
    expect(httpMediaOrigins(loadConfig({ EVOLINK_SIMULATOR: "0", EVOLINK_BASE_URL: "http://127.0.0.1:4010" }))).toEqual({ request: [], fetch: [] });
  });

  it("lists the simulator's exact origin, and for requests the portal's own when it is on this computer", () => {
    const config = loadConfig({ EVOLINK_SIMULATOR: "1", EVOLINK_BASE_URL: "http://127.0.0.1:4010/", PORT: "3000" });
    expect(httpMediaOrigins(config)).toEqual({ request: ["http://127.0.0.1:4010", "http://localhost:3000"], fetch: ["http://127.0.0.1:4010"] });
    const lan = loadConfig({ EVOLINK_SIMULATOR: "1", EVOLINK_BASE_URL: "http://127.0.0.1:4010", PUBLIC_BASE_URL: "http://192.168.1.5:3000" });
    expect(httpMediaOrigins(lan)).toEqual({ request: ["http://127.0.0.1:4010"], fetch: ["http://127.0.0.1:4010"] });
  });
});
