import { expect, it } from "vitest";
import { atPublicOrigin } from "@/server/auth/public-origin.ts";

it("hands Auth.js the request at PUBLIC_BASE_URL's origin, path, query, method, headers and body kept", async () => {
  const internal = new Request("http://localhost:3766/api/auth/signin/oidc?x=1", {
    method: "POST",
    headers: { "content-type": "application/x-www-form-urlencoded", cookie: "a=b" },
    body: "csrfToken=t&callbackUrl=%2Ftasks",
  });
  const req = await atPublicOrigin(internal, "https://portal.example.com/");
  expect(req.url).toBe("https://portal.example.com/api/auth/signin/oidc?x=1");
  expect(req.method).toBe("POST");
  expect(req.headers.get("cookie")).toBe("a=b");
  expect(await req.text()).toBe("csrfToken=t&callbackUrl=%2Ftasks");

  // A loopback address stays as written (Next.js's own URL would make it localhost).
  expect((await atPublicOrigin(new Request("http://localhost:3766/api/auth/session"), "http://127.0.0.1:8162")).url).toBe("http://127.0.0.1:8162/api/auth/session");
  // Already there: the same request.
  const direct = new Request("http://localhost:3000/api/auth/csrf");
  expect(await atPublicOrigin(direct, "http://localhost:3000")).toBe(direct);
});
