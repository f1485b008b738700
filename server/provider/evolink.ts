/**
 * Evolink adapter for the `VideoProvider` boundary: the real service and the
 * local simulator (server/simulator/) speak the same HTTP API, so this module
 * is used unchanged against both.
 *
 * Retries (docs/decisions/0004-provider-retries.md): `getTask` retries every
 * retryable ProviderError (429, 502, 503, network) with backoff and jitter
 * within a deadline. `createGeneration` is paid: it is retried only when the
 * provider certainly did not start the task (429, 503, connection refused),
 * always with the same Idempotency-Key; a 502, a timeout, a connection lost
 * mid-request or an unreadable 2xx throws at once with `outcomeUnknown`.
 */
import { randomUUID } from "node:crypto";
import { nodeHttpFetch } from "./http-transport.ts";
import { withRetry, type RetryPolicy } from "./retry.ts";
import { metrics } from "../metrics/metrics.ts";
import {
  ProviderError,
  providerTaskSchema,
  type GenerationRequestBody,
  type ProviderErrorKind,
  type ProviderTask,
  type VideoProvider,
} from "./types.ts";

/** The tunable part of a retry policy (see server/provider/retry.ts). */
export type EvolinkRetryOptions = Partial<Pick<RetryPolicy, "baseMs" | "capMs" | "deadlineMs" | "maxAttempts" | "now" | "sleep" | "random">>;

export interface EvolinkProviderOptions {
  /** e.g. "https://api.evolink.ai" or the simulator's URL; a trailing slash is ignored. */
  baseUrl: string;
  apiKey: string;
  /** Injectable for tests; defaults to node:http with keep-alive (http-transport.ts). */
  fetch?: typeof fetch;
  /** Per request, covering connect, headers and body; never past the retry deadline. Default 30 s. */
  timeoutMs?: number;
  /**
   * Retry policies. Defaults: base 500 ms, cap 8 s; deadline 30 s for
   * getTask, 20 s for createGeneration. `maxAttempts: 1` disables retries.
   */
  retry?: { getTask?: EvolinkRetryOptions; createGeneration?: EvolinkRetryOptions };
  /** One line per retry and per give-up; the key is redacted. Default: silent. */
  log?: (msg: string) => void;
}

export const DEFAULT_RETRY = {
  getTask: { baseMs: 500, capMs: 8_000, deadlineMs: 30_000 },
  createGeneration: { baseMs: 500, capMs: 8_000, deadlineMs: 20_000 },
} as const;

const DEFAULT_TIMEOUT_MS = 30_000;
/** Retries of a create call that could not connect at all (see shouldRetry below). */
const MAX_UNREACHABLE_RETRIES = 2;
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

/**
 * Error codes that mean no connection was ever made, so no byte of the request
 * reached the provider: safe to repeat even for the paid create call.
 */
const NOT_CONNECTED_CODES = new Set(["ECONNREFUSED", "ENOTFOUND", "EAI_AGAIN", "EHOSTUNREACH", "ENETUNREACH", "UND_ERR_CONNECT_TIMEOUT"]);

/** The system error code behind a failed fetch (undici hides it in `cause`), e.g. "ECONNREFUSED". */
function networkCodeOf(err: unknown): string | undefined {
  const cause = (err as { cause?: unknown } | null)?.cause;
  const code = (cause as { code?: unknown } | undefined)?.code;
  if (typeof code === "string") return code;
  const first = (cause as { errors?: unknown } | undefined)?.errors;
  const inner = Array.isArray(first) ? (first[0] as { code?: unknown } | undefined)?.code : undefined;
  return typeof inner === "string" ? inner : undefined;
}

/** True when the fetch failed before a connection existed (undici hides the code in `cause`). */
function neverConnected(err: unknown): boolean {
  if (!(err instanceof Error) || err.name === "TimeoutError" || err.name === "AbortError") return false;
  const cause = (err as { cause?: unknown }).cause;
  if (!(cause instanceof Error)) return false;
  // fetch refuses some ports itself (the "bad ports" of the Fetch standard) before connecting.
  if (cause.message === "bad port") return true;
  const code = (cause as { code?: unknown }).code;
  if (typeof code === "string") return NOT_CONNECTED_CODES.has(code);
  // Happy eyeballs (several addresses tried) reports an AggregateError.
  const errors = (cause as { errors?: unknown }).errors;
  return (
    Array.isArray(errors) &&
    errors.length > 0 &&
    errors.every((e) => typeof (e as { code?: unknown })?.code === "string" && NOT_CONNECTED_CODES.has((e as { code: string }).code))
  );
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

/** Drops `undefined` values so they do not override the defaults. */
function definedOnly<T extends object>(o: T | undefined): Partial<T> {
  return Object.fromEntries(Object.entries(o ?? {}).filter(([, v]) => v !== undefined)) as Partial<T>;
}

export function createEvolinkProvider(opts: EvolinkProviderOptions): VideoProvider {
  const baseUrl = opts.baseUrl.replace(/\/+$/, "");
  const doFetch = opts.fetch ?? nodeHttpFetch;
  const timeoutMs = opts.timeoutMs ?? DEFAULT_TIMEOUT_MS;
  const queryPolicy: RetryPolicy = { ...DEFAULT_RETRY.getTask, ...definedOnly(opts.retry?.getTask) };
  const createPolicy: RetryPolicy = { ...DEFAULT_RETRY.createGeneration, ...definedOnly(opts.retry?.createGeneration) };

  /**
   * Every message leaving this module goes through here so the key cannot leak
   * (e.g. a provider message echoing it). Very short "keys" (test values) are
   * skipped: they would only mangle ordinary words.
   */
  const redact = (text: string): string =>
    opts.apiKey.length < MIN_REDACTED_KEY_LENGTH ? text : text.split(opts.apiKey).join("[redacted]");
  const log = (msg: string) => opts.log?.(redact(msg));

  const fail = (kind: ProviderErrorKind, message: string, details: ProviderError["details"] = {}) =>
    new ProviderError(kind, redact(`${message} ${HINT_BY_KIND[kind]}`), details);

  const MAY_EXIST = " The task may have been created anyway; check before submitting again.";

  /**
   * One HTTP exchange. `paid` marks the create call: failures after the
   * request may have reached the provider are flagged `outcomeUnknown`.
   */
  /** One HTTP exchange, counted and timed in the metrics (operation: create or query; outcome: ok or the error kind). */
  async function request(
    operation: string,
    path: string,
    init: { method: "GET" | "POST"; body?: unknown; headers?: Record<string, string>; paid?: boolean; attemptTimeoutMs: number },
  ): Promise<ProviderTask> {
    const kind = init.paid === true ? "create" : "query";
    const started = performance.now();
    let outcome = "ok";
    try {
      return await exchange(operation, path, init);
    } catch (err) {
      outcome = err instanceof ProviderError ? err.kind : "error";
      throw err;
    } finally {
      const m = metrics();
      m.providerRequests.inc({ operation: kind, outcome });
      m.providerDuration.observe({ operation: kind }, (performance.now() - started) / 1000);
    }
  }

  async function exchange(
    operation: string,
    path: string,
    init: { method: "GET" | "POST"; body?: unknown; headers?: Record<string, string>; paid?: boolean; attemptTimeoutMs: number },
  ): Promise<ProviderTask> {
    const url = `${baseUrl}${path}`;
    const paid = init.paid === true;
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
        signal: AbortSignal.timeout(init.attemptTimeoutMs),
      });
      status = res.status;
      retryAfter = res.headers.get("retry-after");
      // Inside the try: the timeout also covers reading the body.
      text = await res.text();
    } catch (err) {
      // A request may have reached the provider before the connection failed,
      // and the create call is paid: say so, so nobody resubmits blindly.
      const notSent = neverConnected(err);
      const unknown = paid && !notSent;
      const networkCode = networkCodeOf(err);
      throw fail("network", `Evolink ${operation} failed: no answer from ${baseUrl} (${describeNetworkError(err, init.attemptTimeoutMs)}).${unknown ? MAY_EXIST : ""}`, {
        ...(unknown && { outcomeUnknown: true }),
        ...(notSent && { notSent: true }),
        ...(networkCode !== undefined && { networkCode }),
      });
    }

    if (status >= 200 && status < 300) {
      // For the create call a 2xx means the task was started: if we cannot read
      // the answer we do not know its id, so the outcome is unknown.
      const unknownPart = paid ? MAY_EXIST : "";
      const unknownDetail = paid ? { outcomeUnknown: true } : {};
      let json: unknown;
      try {
        json = JSON.parse(text);
      } catch {
        throw fail("invalid_response", `Evolink ${operation} answered HTTP ${status} with a body that is not JSON: "${snippet(text)}".${unknownPart}`, { status, ...unknownDetail });
      }
      const parsed = providerTaskSchema.safeParse(json);
      if (!parsed.success) {
        const issues = parsed.error.issues.map((i) => `${i.path.join(".") || "(root)"}: ${i.message}`).join("; ");
        throw fail("invalid_response", `Evolink ${operation} answered HTTP ${status} with an unexpected task object (${snippet(issues)}).${unknownPart}`, { status, ...unknownDetail });
      }
      return parsed.data;
    }

    const kind = status >= 400 ? kindForStatus(status) : "invalid_response";
    const body = parseErrorBody(text);
    const retryAfterSeconds = kind === "rate_limited" ? parseRetryAfter(retryAfter) : undefined;
    // A 502 comes from a gateway that may already have passed the request on.
    const unknown = paid && kind === "upstream";
    // Trailing dots are stripped because the sentence is continued below.
    const providerSays = (body.message ?? (text.trim() !== "" ? snippet(text) : "no error message")).replace(/[.\s]+$/, "");
    const codePart = body.code !== undefined ? ` ${body.code}` : "";
    const paramPart = body.param !== undefined ? ` (parameter "${body.param}")` : "";
    const retryPart = retryAfterSeconds !== undefined ? ` Retry after ${retryAfterSeconds} s.` : "";
    throw fail(kind, `Evolink ${operation} failed with HTTP ${status}${codePart}: ${providerSays}${paramPart}.${retryPart}${unknown ? MAY_EXIST : ""}`, {
      status,
      ...(body.code !== undefined && { code: body.code }),
      ...(body.param !== undefined && { param: body.param }),
      ...(body.message !== undefined && { providerMessage: snippet(redact(body.message), 500) }),
      ...(retryAfterSeconds !== undefined && { retryAfterSeconds }),
      ...(unknown && { outcomeUnknown: true }),
    });
  }

  /** Runs `attempt` under `policy`; the final error carries the number of attempts. */
  async function retrying(
    operation: string,
    policy: RetryPolicy,
    attempt: (attemptTimeoutMs: number) => Promise<ProviderTask>,
  ): Promise<ProviderTask> {
    const now = policy.now ?? Date.now;
    let attempts = 0;
    try {
      return await withRetry(({ deadlineAt }) => {
        attempts += 1;
        // An attempt never runs past the deadline (at least 1 ms, or AbortSignal.timeout throws).
        return attempt(Math.max(1, Math.min(timeoutMs, deadlineAt - now())));
      }, {
        ...policy,
        onRetry: ({ attempt: n, delayMs, error }) =>
          log(`Evolink ${operation}: attempt ${n} failed (${error instanceof ProviderError ? error.kind : "error"}); retrying in ${delayMs} ms. ${error instanceof Error ? error.message : ""}`),
      });
    } catch (err) {
      if (!(err instanceof ProviderError)) throw err;
      if (attempts > 1) log(`Evolink ${operation}: giving up after ${attempts} attempts. ${err.message}`);
      const suffix = attempts > 1 ? ` (Gave up after ${attempts} attempts.)` : "";
      throw new ProviderError(err.kind, `${err.message}${suffix}`, { ...err.details, attempts });
    }
  }

  return {
    createGeneration(body: GenerationRequestBody, createOpts?: { idempotencyKey?: string }) {
      // One key for every attempt of this call, so a provider that honours it
      // can recognise a repeat (the header is not documented; see API-NOTES.md).
      const idempotencyKey = createOpts?.idempotencyKey || randomUUID();
      return retrying("create generation", {
        ...createPolicy,
        // Only when the provider certainly did not start the task. A provider
        // that cannot be reached gets two quick retries (a blip), none for a
        // name that does not resolve: the person is waiting for the answer.
        shouldRetry: (err, attempt) =>
          err instanceof ProviderError &&
          !err.outcomeUnknown &&
          (err.kind === "rate_limited" ||
            err.kind === "unavailable" ||
            (err.kind === "network" && err.details.notSent === true && err.details.networkCode !== "ENOTFOUND" && attempt < MAX_UNREACHABLE_RETRIES)),
      }, (attemptTimeoutMs) =>
        request("create generation", "/v1/videos/generations", {
          method: "POST",
          body,
          headers: { "Idempotency-Key": idempotencyKey },
          paid: true,
          attemptTimeoutMs,
        }),
      );
    },

    async getTask(providerTaskId: string) {
      if (providerTaskId === "") {
        // "/v1/tasks/" would address a different resource; refuse locally.
        throw fail("bad_request", "Evolink query task failed: the task id is empty.");
      }
      const operation = `query task ${providerTaskId}`;
      return retrying(operation, queryPolicy, (attemptTimeoutMs) =>
        request(operation, `/v1/tasks/${encodeURIComponent(providerTaskId)}`, { method: "GET", attemptTimeoutMs }),
      );
    },
  };
}
