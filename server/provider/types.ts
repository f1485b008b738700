/**
 * The provider boundary. Everything the portal knows about a video provider
 * goes through `VideoProvider`; `server/provider/evolink.ts` implements it over
 * Evolink's HTTP API (used unchanged against the real service and against the
 * local simulator in server/simulator/). A second adapter (e.g. DashScope)
 * implements the same interface.
 */
import { z } from "zod";
import { DomainError } from "../errors.ts";

export const MODEL_ID = "wan2.7-image-to-video";

export const providerTaskStatus = z.enum(["pending", "processing", "completed", "failed"]);
export type ProviderTaskStatus = z.infer<typeof providerTaskStatus>;

/** The task object shared by the create answer, the query answer and callbacks. */
export const providerTaskSchema = z.object({
  id: z.string().min(1).max(200),
  created: z.number().int().optional(),
  model: z.string().optional(),
  object: z.string().optional(),
  status: providerTaskStatus,
  progress: z.number().min(0).max(100).optional().default(0),
  results: z.array(z.string()).optional(),
  error: z
    .object({
      code: z.union([z.string(), z.number()]).transform(String),
      message: z.string().optional().default(""),
      type: z.string().optional(),
    })
    .optional(),
  task_info: z
    .object({
      can_cancel: z.boolean().optional(),
      estimated_time: z.number().optional(),
      video_duration: z.number().optional(),
    })
    .partial()
    .optional(),
  type: z.string().optional(),
  usage: z.record(z.string(), z.unknown()).optional(),
});
export type ProviderTask = z.infer<typeof providerTaskSchema>;

/** Request body for `POST /v1/videos/generations`, as the seed reference defines it. */
export interface GenerationRequestBody {
  model: typeof MODEL_ID;
  generation_mode?: "first_frame" | "first_last_frame" | "video_continuation";
  prompt: string;
  negative_prompt?: string;
  image_start?: string;
  image_end?: string;
  video_urls?: string[];
  audio_urls?: string[];
  quality?: "720p" | "1080p";
  duration?: number;
  seed?: number;
  prompt_extend?: boolean;
  callback_url?: string;
}

export type ProviderErrorKind =
  | "bad_request" // 400
  | "unauthenticated" // 401
  | "insufficient_quota" // 402
  | "forbidden" // 403
  | "not_found" // 404
  | "too_large" // 413
  | "rate_limited" // 429
  | "internal" // 500
  | "upstream" // 502
  | "unavailable" // 503
  | "network" // no HTTP answer (connection refused, reset, timeout)
  | "invalid_response"; // an answer we could not parse

export class ProviderError extends DomainError {
  static override readonly kind: string = "ProviderError";

  constructor(
    readonly kind: ProviderErrorKind,
    message: string,
    readonly details: {
      status?: number;
      code?: string;
      param?: string;
      retryAfterSeconds?: number;
      /**
       * Set on a paid create call that failed after the request may have
       * reached the provider (HTTP 502, a timeout, a connection lost mid-way,
       * or a 2xx answer we could not read): the task may exist and be billed.
       * Never resubmit such a request blindly; leave it for the reconciler
       * (a callback or a later query settles it). See
       * docs/decisions/0004-provider-retries.md.
       */
      outcomeUnknown?: boolean;
      /** No connection was made: nothing reached the provider (refused, DNS failure, unreachable). */
      notSent?: boolean;
      /** The system error behind a network failure, e.g. "ECONNREFUSED", "ENOTFOUND". */
      networkCode?: string;
      /** The provider's own `error.message`, for people (redacted, at most 500 characters). */
      providerMessage?: string;
      /** How many HTTP attempts were made before this error was thrown (1 = no retry). */
      attempts?: number;
    } = {},
  ) {
    super(message);
  }

  /**
   * 429, 502, 503 and network failures may be retried; nothing else. A create
   * call whose outcome is unknown is never retryable: repeating it could pay
   * for the same video twice.
   */
  get retryable(): boolean {
    if (this.outcomeUnknown) return false;
    return ["rate_limited", "upstream", "unavailable", "network"].includes(this.kind);
  }

  /** True when a create call may have started a (paid) task despite this error. */
  get outcomeUnknown(): boolean {
    return this.details.outcomeUnknown === true;
  }
}

export interface VideoProvider {
  /**
   * Paid call: never retried blindly by callers. Implementations may retry it
   * only when the provider certainly did not start the task (Evolink: 429,
   * 503, connection refused), always with the same idempotency key; when the
   * outcome is unknown they throw a ProviderError with `outcomeUnknown`.
   */
  createGeneration(body: GenerationRequestBody, opts?: { idempotencyKey?: string }): Promise<ProviderTask>;
  /** Safe to repeat; implementations may retry transient failures within a deadline. */
  getTask(providerTaskId: string): Promise<ProviderTask>;
}
