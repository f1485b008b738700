import { describe, expect, it } from "vitest";
import { BodyTooLargeError, readTextWithin } from "@/server/http/body.ts";

/** A request whose body arrives in chunks without a Content-Length. */
function chunked(chunks: string[]): Request {
  const body = new ReadableStream<Uint8Array>({
    start(controller) {
      for (const c of chunks) controller.enqueue(new TextEncoder().encode(c));
      controller.close();
    },
  });
  return new Request("http://localhost/x", { method: "POST", body, duplex: "half" } as RequestInit);
}

describe("readTextWithin", () => {
  it("reads a body up to the bound", async () => {
    expect(await readTextWithin(chunked(["ab", "cd"]), 4)).toBe("abcd");
    expect(await readTextWithin(new Request("http://localhost/x", { method: "POST" }), 4)).toBe("");
  });

  it("refuses a declared length over the bound without reading", async () => {
    const req = new Request("http://localhost/x", { method: "POST", body: "x".repeat(10), headers: { "content-length": "10" } });
    await expect(readTextWithin(req, 4)).rejects.toBeInstanceOf(BodyTooLargeError);
    expect(req.bodyUsed).toBe(false);
  });

  it("reads a body of a declared length within the bound at once, and holds it to the bound even if it lies", async () => {
    expect(await readTextWithin(new Request("http://localhost/x", { method: "POST", body: "héllo", headers: { "content-length": "6" } }), 6)).toBe("héllo");
    // A Request made in code can carry more than its header says: the bound still holds.
    await expect(readTextWithin(new Request("http://localhost/x", { method: "POST", body: "x".repeat(10), headers: { "content-length": "3" } }), 4)).rejects.toBeInstanceOf(BodyTooLargeError);
  });

  it("stops a chunked body as soon as it passes the bound", async () => {
    await expect(readTextWithin(chunked(["abc", "def"]), 4)).rejects.toBeInstanceOf(BodyTooLargeError);
  });
});
