/** HTTP steps shared by the browser tests: tRPC over plain HTTP, uploads, simulator faults. */
import { readFileSync } from "node:fs";
import path from "node:path";
import type { APIRequestContext, APIResponse } from "@playwright/test";
import { MAIN, simulatorKey, type Instance } from "./instances.ts";

export const fixture = (name: string) => path.resolve(import.meta.dirname, "../fixtures/media", name);

/** GET a tRPC query as the browser's link would (superjson input). */
export function trpcQuery(request: APIRequestContext, procedure: string, input?: unknown, headers: Record<string, string> = {}): Promise<APIResponse> {
  const query = input === undefined ? "" : `?input=${encodeURIComponent(JSON.stringify({ json: input }))}`;
  return request.get(`/api/trpc/${procedure}${query}`, { headers, maxRedirects: 0 });
}

/** POST a tRPC mutation (superjson input). */
export function trpcMutation(request: APIRequestContext, procedure: string, input?: unknown, headers: Record<string, string> = {}): Promise<APIResponse> {
  return request.post(`/api/trpc/${procedure}`, {
    data: input === undefined ? {} : { json: input },
    headers: { "content-type": "application/json", ...headers },
    maxRedirects: 0,
  });
}

/** The `json` of a successful tRPC answer. */
export async function trpcData<T>(res: APIResponse): Promise<T> {
  const body = (await res.json()) as { result?: { data?: { json?: T } } };
  if (!res.ok() || body.result?.data === undefined) throw new Error(`tRPC answered ${res.status()}: ${JSON.stringify(body)}`);
  return body.result.data.json as T;
}

/** Uploads a fixture file for a media field; returns the link. */
export async function upload(request: APIRequestContext, field: string, name: string, headers: Record<string, string> = {}): Promise<APIResponse> {
  return request.post("/api/uploads", {
    multipart: { field, file: { name, mimeType: "application/octet-stream", buffer: readFileSync(fixture(name)) } },
    headers,
    maxRedirects: 0,
  });
}

/** Sets fault rules on the instance's simulator over its loopback control API. */
export async function simulatorFaults(request: APIRequestContext, body: unknown, i: Instance = MAIN): Promise<void> {
  const res = await request.post(`http://127.0.0.1:${i.simulatorPort}/__sim/faults`, {
    data: body,
    headers: { authorization: `Bearer ${simulatorKey(i)}` },
  });
  if (!res.ok()) throw new Error(`simulator faults: ${res.status()} ${await res.text()}`);
}
