/**
 * Domain errors are recognised across copies of their module. The production
 * build bundles each route separately, so the services object (built once,
 * by whichever route came first) throws the classes of another bundle's copy;
 * a plain `instanceof` then failed (provider refusals left tasks "checking",
 * ranges past the end answered 500). Here two copies of each module are
 * loaded, as two bundles would, and each recognises the other's errors.
 */
import { readdirSync, readFileSync, statSync } from "node:fs";
import path from "node:path";
import { describe, expect, it, vi } from "vitest";

type ErrorsModule = typeof import("@/server/errors.ts");

async function twoCopies<T>(load: () => Promise<T>): Promise<[T, T]> {
  vi.resetModules();
  const a = await load();
  vi.resetModules();
  const b = await load();
  return [a, b];
}

describe("errors recognised across module copies", () => {
  it("AppError from one copy is an AppError (and a DomainError) of the other", async () => {
    const [a, b] = await twoCopies<ErrorsModule>(() => import("@/server/errors.ts"));
    expect(a.AppError).not.toBe(b.AppError); // really two copies
    const err = new a.AppError("NOT_FOUND", "No such task");
    expect(err instanceof b.AppError).toBe(true);
    expect(err instanceof b.DomainError).toBe(true);
    expect(err instanceof Error).toBe(true);
    expect(err.name).toBe("AppError");
    expect(new Error("plain") instanceof b.AppError).toBe(false);
    expect({ code: "NOT_FOUND", message: "lookalike" } instanceof b.AppError).toBe(false);
  });

  it("each class answers only for its own kind", async () => {
    const [a, b] = await twoCopies(async () => ({
      errors: await import("@/server/errors.ts"),
      provider: await import("@/server/provider/types.ts"),
      storage: await import("@/server/storage/storage.ts"),
      body: await import("@/server/http/body.ts"),
    }));
    const providerError = new a.provider.ProviderError("bad_request", "refused", { status: 400 });
    expect(providerError instanceof b.provider.ProviderError).toBe(true);
    expect(providerError instanceof b.errors.AppError).toBe(false);
    expect(providerError.retryable).toBe(false);
    const range = new a.storage.RangeNotSatisfiableError(741);
    expect(range instanceof b.storage.RangeNotSatisfiableError).toBe(true);
    expect(range instanceof b.body.BodyTooLargeError).toBe(false);
    expect(new a.body.BodyTooLargeError(10) instanceof b.body.BodyTooLargeError).toBe(true);
  });

  it("the HTTP error path of one copy maps the errors of another", async () => {
    const [a, b] = await twoCopies(async () => ({
      http: await import("@/server/http/errors.ts"),
      storage: await import("@/server/storage/storage.ts"),
      errors: await import("@/server/errors.ts"),
    }));
    const range = b.http.toHttpResponse(new a.storage.RangeNotSatisfiableError(741));
    expect(range.status).toBe(416);
    expect(range.headers.get("content-range")).toBe("bytes */741");
    const notFound = b.http.toHttpResponse(new a.errors.AppError("NOT_FOUND", "No such file"));
    expect(notFound.status).toBe(404);
    expect(await notFound.json()).toEqual({ error: { code: "NOT_FOUND", message: "No such file" } });
  });
});

it("a subclass must declare its own kind (else it would answer instanceof for its parent's errors)", async () => {
  const { AppError } = await import("@/server/errors.ts");
  class Forgetful extends AppError {}
  expect(() => new Forgetful("NOT_FOUND", "x")).toThrow(/Forgetful must declare its own static kind/);
  class Careful extends AppError {
    static override readonly kind = "Careful";
  }
  expect(new Careful("NOT_FOUND", "x") instanceof AppError).toBe(true);
  expect(new AppError("NOT_FOUND", "x") instanceof Careful).toBe(false);
});

describe("every error class of the server is a DomainError", () => {
  const root = path.resolve(import.meta.dirname, "../../server");
  const files = (dir: string): string[] =>
    readdirSync(dir).flatMap((name) => {
      const full = path.join(dir, name);
      if (name === "generated" || name === "node_modules") return [];
      return statSync(full).isDirectory() ? files(full) : full.endsWith(".ts") ? [full] : [];
    });

  it("no class extends Error directly (instanceof would break across bundles)", () => {
    const offenders = files(root)
      .filter((f) => !f.endsWith(path.join("server", "errors.ts")))
      .filter((f) => /class\s+\w+\s+extends\s+(Error|TypeError|RangeError)\b/.test(readFileSync(f, "utf8")))
      .map((f) => path.relative(root, f));
    expect(offenders).toEqual([]);
  });
});
