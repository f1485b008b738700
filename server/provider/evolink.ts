/**
 * Evolink adapter for the `VideoProvider` boundary: the real service and the
 * local simulator (server/simulator/) speak the same HTTP API, so this module
 * is used unchanged against both.
 *
 * Deliberately no retries here: the create call is paid and retry policy
 * belongs to the caller (see `ProviderError.retryable`). `getTask` is a plain
 * GET and safe to call repeatedly.
 */
import {
  ProviderError,
  providerTaskSchema,
  type GenerationRequestBody,
  type ProviderErrorKind,
  type ProviderTask,
  type VideoProvider,
} from "./types.ts";

export interface EvolinkProviderOptions {
  /** e.g. "https://api.evolink.ai" or the simulator's URL; a trailing slash is ignored. */
  baseUrl: string;
  apiKey: string;
  /** Injectable for tests; defaults to the global fetch. */
  fetch?: typeof fetch;
  /** Per request, covering connect, headers and body. Default 30 s. */
  timeoutMs?: number;
}

const DEFAULT_TIMEOUT_MS = 30_000;
const MIN_REDACTED_KEY_LENGTH = 8;

const KIND_BY_STATUS: Readonly<Record<number, ProviderErrorKind>> = {
  400: "bad_request",
  401: "unauthenticated",
  402: "insufficient_quota",
  403: "forbidden",
  404: "not_found",
  413: "too_large",
  429: "rate_limited",
  500: "internal",
  502: "upstream",
  503: "unavailable",
};

/** What a person can do about each kind; appended to the provider's own message. */
const HINT_BY_KIND: Readonly<Record<ProviderErrorKind, string>> = {
  bad_request: "The request was refused as invalid; change the input before trying again.",
  unauthenticated: "The API key was not accepted; check the configured Evolink API key.",
  insufficient_quota: "The Evolink account has run out of credits; top up the balance.",
  forbidden: "The API key is not allowed to do this (e.g. the task belongs to another account).",
  not_found: "The provider does not know this task (wrong id, another account, or expired).",
  too_large: "The request is too large; use smaller inputs.",
  rate_limited: "Too many requests; wait before trying again.",
  internal: "The provider had an internal error; try again later.",
  upstream: "The provider's upstream service failed; try again shortly.",
  unavailable: "The provider is temporarily unavailable; try again shortly.",
  network: "Check the network connection and the configured Evolink base URL.",
  invalid_response: "The provider's answer was not understood; the API may have changed.",
};

function kindForStatus(status: number): ProviderErrorKind {
  return KIND_BY_STATUS[status] ?? (status >= 500 ? "internal" : "bad_request");
}

/** Retry-After is either delta-seconds or an HTTP date. */
function parseRetryAfter(value: string | null): number | undefined {
  if (value === null || value.trim() === "") return undefined;
  const trimmed = value.trim();
  if (/^\d+$/.test(trimmed)) return Number(trimmed);
  const date = Date.parse(trimmed);
  if (Number.isNaN(date)) return undefined;
  return Math.max(0, Math.ceil((date - Date.now()) / 1000));
}

interface ProviderErrorBody {
  code?: string;
  message?: string;
  type?: string;
  param?: string;
}

/** Reads `{"error":{code,message,type,param}}`; tolerant of anything else. */
function parseErrorBody(text: string): ProviderErrorBody {
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    return {};
  }
  if (typeof parsed !== "object" || parsed === null) return {};
  const error = (parsed as { error?: unknown }).error;
  if (typeof error !== "object" || error === null) return {};
  const e = error as Record<string, unknown>;
  const str = (v: unknown) => (typeof v === "string" && v !== "" ? v : undefined);
  return {
    // Older API revisions put the HTTP status number in `code`.
    code: typeof e.code === "number" ? String(e.code) : str(e.code),
    message: str(e.message),
    type: str(e.type),
    param: str(e.param),
  };
}

function describeNetworkError(err: unknown, timeoutMs: number): string {
  if (err instanceof Error) {
    if (err.name === "TimeoutError") return `no answer within ${timeoutMs} ms`;
    if (err.name === "AbortError") return "request aborted";
    // undici reports "fetch failed" and hides the useful part in `cause`.
    const cause = (err as { cause?: unknown }).cause;
    if (cause instanceof Error) {
      const code = (cause as { code?: unknown }).code;
      return typeof code === "string" ? `${code}: ${cause.message}` : cause.message;
    }
    return err.message;
  }
  return String(err);
}

function snippet(text: string, max = 200): string {
  const oneLine = text.replace(/\s+/g, " ").trim();
  return oneLine.length > max ? `${oneLine.slice(0, max)}...` : oneLine;
}

export function createEvolinkProvider(opts: EvolinkProviderOptions): VideoProvider {
  const baseUrl = opts.baseUrl.replace(/\/+$/, "");
  const doFetch = opts.fetch ?? globalThis.fetch;
  const timeoutMs = opts.timeoutMs ?? DEFAULT_TIMEOUT_MS;

  /**
   * Every message leaving this module goes through here so the key cannot leak
   * (e.g. a provider message echoing it). Very short "keys" (test values) are
   * skipped: they would only mangle ordinary words.
   */
  const redact = (text: string): string =>
    opts.apiKey.length < MIN_REDACTED_KEY_LENGTH ? text : text.split(opts.apiKey).join("[redacted]");

  const fail = (kind: ProviderErrorKind, message: string, details: ProviderError["details"] = {}) =>
    new ProviderError(kind, redact(`${message} ${HINT_BY_KIND[kind]}`), details);

  async function request(
    operation: string,
    path: string,
    init: { method: "GET" | "POST"; body?: unknown; headers?: Record<string, string> },
  ): Promise<ProviderTask> {
    const url = `${baseUrl}${path}`;
    let status: number;
    let text: string;
    let retryAfter: string | null;
    try {
      const res = await doFetch(url, {
        method: init.method,
        headers: {
          Accept: "application/json",
          Authorization: `Bearer ${opts.apiKey}`,
          ...(init.body !== undefined ? { "Content-Type": "application/json" } : {}),
          ...init.headers,
        },
        body: init.body !== undefined ? JSON.stringify(init.body) : undefined,
        signal: AbortSignal.timeout(timeoutMs),
      });
      status = res.status;
      retryAfter = res.headers.get("retry-after");
      // Inside the try: the timeout also covers reading the body.
      text = await res.text();
    } catch (err) {
      // A POST may have reached the provider before the connection failed, and
      // the create call is paid: say so, so nobody resubmits blindly.
      const outcome = init.method === "POST" ? " The task may have been created anyway; check before submitting again." : "";
      throw fail("network", `Evolink ${operation} failed: no answer from ${baseUrl} (${describeNetworkError(err, timeoutMs)}).${outcome}`);
    }

    if (status >= 200 && status < 300) {
      let json: unknown;
      try {
        json = JSON.parse(text);
      } catch {
        throw fail("invalid_response", `Evolink ${operation} answered HTTP ${status} with a body that is not JSON: "${snippet(text)}".`, { status });
      }
      const parsed = providerTaskSchema.safeParse(json);
      if (!parsed.success) {
        const issues = parsed.error.issues.map((i) => `${i.path.join(".") || "(root)"}: ${i.message}`).join("; ");
        throw fail("invalid_response", `Evolink ${operation} answered HTTP ${status} with an unexpected task object (${snippet(issues)}).`, { status });
      }
      return parsed.data;
    }

    const kind = status >= 400 ? kindForStatus(status) : "invalid_response";
    const body = parseErrorBody(text);
    const retryAfterSeconds = kind === "rate_limited" ? parseRetryAfter(retryAfter) : undefined;
    // Trailing dots are stripped because the sentence is continued below.
    const providerSays = (body.message ?? (text.trim() !== "" ? snippet(text) : "no error message")).replace(/[.\s]+$/, "");
    const codePart = body.code !== undefined ? ` ${body.code}` : "";
    const paramPart = body.param !== undefined ? ` (parameter "${body.param}")` : "";
    const retryPart = retryAfterSeconds !== undefined ? ` Retry after ${retryAfterSeconds} s.` : "";
    throw fail(kind, `Evolink ${operation} failed with HTTP ${status}${codePart}: ${providerSays}${paramPart}.${retryPart}`, {
      status,
      ...(body.code !== undefined && { code: body.code }),
      ...(body.param !== undefined && { param: body.param }),
      ...(retryAfterSeconds !== undefined && { retryAfterSeconds }),
    });
  }

  return {
    createGeneration(body: GenerationRequestBody, createOpts?: { idempotencyKey?: string }) {
      const headers: Record<string, string> = createOpts?.idempotencyKey ? { "Idempotency-Key": createOpts.idempotencyKey } : {};
      return request("create generation", "/v1/videos/generations", { method: "POST", body, headers });
    },

    async getTask(providerTaskId: string) {
      if (providerTaskId === "") {
        // "/v1/tasks/" would address a different resource; refuse locally.
        throw fail("bad_request", "Evolink query task failed: the task id is empty.");
      }
      return request(`query task ${providerTaskId}`, `/v1/tasks/${encodeURIComponent(providerTaskId)}`, { method: "GET" });
    },
  };
}
