/**
 * Fault controls of the simulator: what a test can make the provider do
 * wrong. Rules are validated with the schemas below, both when set from code
 * (`sim.faults.*`) and over HTTP (`POST /__sim/faults`).
 *
 * - HTTP faults: the next `count` requests to an endpoint answer a status with
 *   the provider's error body, or hang without answering.
 * - Task failures: a task ends `failed` with a documented error code, chosen
 *   by a prompt marker or for the next created task(s). The prompt markers
 *   "[sim:fail]" (content_policy_violation) and "[sim:fail:<code>]" need no
 *   setup at all.
 * - Callback faults: drop, delay, duplicate, or reorder a task's callbacks.
 * - Pace: a task takes `stepMs` per step instead of the simulator's own pace
 *   (a slow task to watch while it runs).
 * - Forget: the simulator loses a task it accepted (queries answer 404
 *   `task_not_found`, its timeline and callbacks stop), or with `count`
 *   answers 404 for the next `count` queries of it only (a provider briefly
 *   inconsistent).
 *
 * Task rules are bound to a task when it is created: a rule set afterwards
 * does not change tasks already running.
 */
import { z } from "zod";

export const FAIL_MARKER = "[sim:fail]";
const FAIL_CODE_MARKER = /\[sim:fail:([a-z_]+)\]/;

/** Failed-task error codes from API-NOTES.md, with a message like the provider's. */
export const FAILED_TASK_MESSAGES = {
  content_policy_violation: "The request was rejected by the content safety policy.",
  invalid_parameters: "The request parameters are invalid for this model.",
  image_processing_error: "The input image could not be processed.",
  image_dimension_mismatch: "The first and last frame images have different dimensions.",
  request_cancelled: "The request was cancelled.",
  generation_failed_no_content: "The model produced no content; try again.",
  service_error: "The generation service had an error; try again.",
  generation_timeout: "The generation timed out; try again.",
  resource_exhausted: "The generation resources are exhausted; try again later.",
  quota_exceeded: "The upstream quota was exceeded; try again later.",
  service_unavailable: "The generation service is unavailable; try again later.",
  resource_not_found: "An input resource could not be found or downloaded.",
  unknown_error: "An unknown error occurred.",
} as const;
export type FailedTaskCode = keyof typeof FAILED_TASK_MESSAGES;
export const FAILED_TASK_CODES = Object.keys(FAILED_TASK_MESSAGES) as FailedTaskCode[];

export const HTTP_FAULT_STATUSES = [400, 401, 402, 403, 404, 413, 429, 500, 502, 503] as const;
export type HttpFaultStatus = (typeof HTTP_FAULT_STATUSES)[number];

/** The provider's code and type for each HTTP status (API-NOTES.md names most of them). */
export const HTTP_FAULT_DEFAULTS: Readonly<Record<HttpFaultStatus, { code: string; type: string; message: string }>> = {
  400: { code: "invalid_parameters", type: "invalid_request_error", message: "Invalid request." },
  401: { code: "unauthorized", type: "authentication_error", message: "Invalid or missing API key." },
  402: { code: "quota_exceeded", type: "insufficient_quota", message: "Insufficient quota; please top up." },
  403: { code: "permission_denied", type: "permission_error", message: "You do not have permission for this resource." },
  404: { code: "task_not_found", type: "not_found_error", message: "Not found." },
  413: { code: "request_too_large", type: "invalid_request_error", message: "The request is too large." },
  429: { code: "rate_limit_exceeded", type: "rate_limit_error", message: "Rate limit exceeded; slow down." },
  500: { code: "internal_error", type: "api_error", message: "Internal server error." },
  502: { code: "upstream_error", type: "api_error", message: "Bad gateway: the upstream service failed." },
  503: { code: "service_unavailable", type: "api_error", message: "The service is temporarily unavailable." },
};

const count = z.number().int().min(1).max(10_000);

/** create = POST /v1/videos/generations, query = GET /v1/tasks/{id}, any = either, file = GET /files/* (results). */
export const simEndpoint = z.enum(["create", "query", "any", "file"]);
export type SimEndpoint = z.infer<typeof simEndpoint>;

export const httpFaultRuleSchema = z
  .strictObject({
    endpoint: simEndpoint.default("any"),
    /** How many matching requests this rule answers; then it is gone. Default 1. */
    count: count.default(1),
    /** Answer this status with the provider's error body. */
    status: z.literal(HTTP_FAULT_STATUSES).optional(),
    /** Or never answer: the connection stays open until the client gives up (or `hangMs` passes, then it is cut). */
    hang: z.boolean().optional(),
    hangMs: z.number().int().min(1).optional(),
    /** 429: the Retry-After header in seconds; null = no header. Default 1. */
    retryAfterSeconds: z.number().int().min(0).nullable().default(1),
    code: z.string().min(1).optional(),
    message: z.string().min(1).optional(),
    /**
     * create only: the task is created (and runs, and calls back) before the
     * fault answers, the case where the client cannot know it was created.
     */
    createTask: z.boolean().default(false),
  })
  .refine((r) => (r.status !== undefined) !== (r.hang === true), { message: "Give either status or hang: true." });
export type HttpFaultRule = z.input<typeof httpFaultRuleSchema>;
export type HttpFault = z.output<typeof httpFaultRuleSchema>;

/** Chooses tasks at creation: by prompt marker (every match until reset, or `count` of them), else the next `count` created tasks (default 1). */
const selector = {
  marker: z.string().min(1).optional(),
  count: count.optional(),
};

export const taskFailureRuleSchema = z.strictObject({
  ...selector,
  /** A documented code (FAILED_TASK_CODES) or any other string, to test unknown codes. */
  code: z.string().min(1),
  /** Default: the documented code's message. */
  message: z.string().min(1).optional(),
});
export type TaskFailureRule = z.input<typeof taskFailureRuleSchema>;

export const callbackFaultRuleSchema = z.strictObject({
  ...selector,
  /** Never send the callback. */
  drop: z.boolean().default(false),
  /** Wait this long after the task ends before the first callback. */
  delayMs: z.number().int().min(0).default(0),
  /** Send the final callback this many times (at once, each with its own retries). Default 1. */
  duplicate: z.number().int().min(1).max(20).default(1),
  /**
   * Inject a stale "processing" callback: "after_final" = reordered (it
   * arrives after the final one), "before_final" = an intermediate callback
   * first, "both".
   */
  staleProcessing: z.enum(["before_final", "after_final", "both"]).optional(),
});
export type CallbackFaultRule = z.input<typeof callbackFaultRuleSchema>;
export type CallbackFault = z.output<typeof callbackFaultRuleSchema>;

export const paceRuleSchema = z.strictObject({
  ...selector,
  /** Time per step of the task's timeline (pending, 4 processing steps, end). */
  stepMs: z.number().int().min(1).max(600_000),
});
export type PaceRule = z.input<typeof paceRuleSchema>;

export const forgetRuleSchema = z.strictObject({
  /** The provider's id of the task. */
  taskId: z.string().min(1),
  /** Answer 404 for the next `count` queries of it only; without it, the task is forgotten for good. */
  count: count.optional(),
});
export type ForgetRule = z.input<typeof forgetRuleSchema>;

/** Body of `POST /__sim/faults`: any of the kinds, one rule or a list. */
const oneOrMany = <T extends z.ZodType>(s: T) => z.preprocess((v) => (Array.isArray(v) ? v : [v]), z.array(s));
export const faultsBodySchema = z.strictObject({
  http: oneOrMany(httpFaultRuleSchema).optional(),
  failTask: oneOrMany(taskFailureRuleSchema).optional(),
  callbacks: oneOrMany(callbackFaultRuleSchema).optional(),
  pace: oneOrMany(paceRuleSchema).optional(),
  forget: oneOrMany(forgetRuleSchema).optional(),
});
export type FaultsBody = z.input<typeof faultsBodySchema>;

export interface TaskFailure {
  code: string;
  message: string;
}

interface TaskRule<T> {
  marker?: string;
  /** Remaining uses; undefined = unlimited (marker rules). */
  remaining?: number;
  value: T;
}

export interface FaultsSnapshot {
  http: Array<HttpFault & { remaining: number }>;
  failTask: Array<{ marker?: string; remaining?: number } & TaskFailure>;
  callbacks: Array<{ marker?: string; remaining?: number } & CallbackFault>;
  pace: Array<{ marker?: string; remaining?: number; stepMs: number }>;
  /** Tasks answered 404 for a few more queries (forgotten tasks are gone, not listed). */
  forget: Array<{ taskId: string; remaining: number }>;
}

function messageFor(code: string): string {
  return (FAILED_TASK_MESSAGES as Record<string, string>)[code] ?? `The task failed (${code}).`;
}

/** The failure a prompt marker asks for, if any. */
export function failureFromPrompt(prompt: string): TaskFailure | undefined {
  const m = FAIL_CODE_MARKER.exec(prompt);
  if (m?.[1]) return { code: m[1], message: messageFor(m[1]) };
  if (prompt.includes(FAIL_MARKER)) {
    return { code: "content_policy_violation", message: `The simulator failed this task because its prompt contains "${FAIL_MARKER}".` };
  }
  return undefined;
}

/** Formats a zod error as one line. */
export function describeIssues(err: z.ZodError): string {
  return err.issues.map((i) => `${i.path.join(".") || "(rule)"}: ${i.message}`).join("; ");
}

function parseOrThrow<T extends z.ZodType>(schema: T, rule: unknown): z.output<T> {
  const parsed = schema.safeParse(rule);
  if (!parsed.success) throw new TypeError(`Invalid simulator fault rule: ${describeIssues(parsed.error)}`);
  return parsed.data;
}

/** The state behind `sim.faults`. */
export class FaultState {
  private httpRules: Array<HttpFault & { remaining: number }> = [];
  private failRules: Array<TaskRule<TaskFailure>> = [];
  private callbackRules: Array<TaskRule<CallbackFault>> = [];
  private paceRules: Array<TaskRule<number>> = [];
  private hideRules: Array<{ taskId: string; remaining: number }> = [];

  /** The next `count` requests to `endpoint` answer `status` (or hang). */
  http(rule: HttpFaultRule): void {
    const r = parseOrThrow(httpFaultRuleSchema, rule);
    this.httpRules.push({ ...r, remaining: r.count });
  }

  /** Tasks chosen by `marker` / the next `count` created tasks end failed with `code`. */
  failTask(rule: TaskFailureRule): void {
    const r = parseOrThrow(taskFailureRuleSchema, rule);
    this.failRules.push({ ...this.selection(r), value: { code: r.code, message: r.message ?? messageFor(r.code) } });
  }

  /** Callback behaviour for tasks chosen by `marker` / the next `count` created tasks. */
  callbacks(rule: CallbackFaultRule): void {
    const r = parseOrThrow(callbackFaultRuleSchema, rule);
    this.callbackRules.push({ ...this.selection(r), value: r });
  }

  /** Tasks picked likewise take `stepMs` per step. */
  pace(rule: PaceRule): void {
    const r = parseOrThrow(paceRuleSchema, rule);
    this.paceRules.push({ ...this.selection(r), value: r.stepMs });
  }

  /** Applies a `POST /__sim/faults` body (already validated). */
  apply(body: z.output<typeof faultsBodySchema>): void {
    for (const r of body.http ?? []) this.httpRules.push({ ...r, remaining: r.count });
    for (const r of body.failTask ?? []) this.failRules.push({ ...this.selection(r), value: { code: r.code, message: r.message ?? messageFor(r.code) } });
    for (const r of body.callbacks ?? []) this.callbackRules.push({ ...this.selection(r), value: r });
    for (const r of body.pace ?? []) this.paceRules.push({ ...this.selection(r), value: r.stepMs });
    for (const r of body.forget ?? []) if (r.count !== undefined) this.hideRules.push({ taskId: r.taskId, remaining: r.count });
  }

  /** Queries of `taskId` answer 404 `count` more times. */
  hide(taskId: string, count: number): void {
    this.hideRules.push({ taskId, remaining: count });
  }

  /** Consumes one 404 owed to a query of `taskId`; true when this query must answer 404. */
  takeHidden(taskId: string): boolean {
    const i = this.hideRules.findIndex((r) => r.taskId === taskId);
    if (i < 0) return false;
    const rule = this.hideRules[i]!;
    rule.remaining -= 1;
    if (rule.remaining <= 0) this.hideRules.splice(i, 1);
    return true;
  }

  clear(): void {
    this.httpRules = [];
    this.failRules = [];
    this.callbackRules = [];
    this.paceRules = [];
    this.hideRules = [];
  }

  list(): FaultsSnapshot {
    const task = <T extends object>(r: TaskRule<T>) => ({ ...r.value, ...(r.marker !== undefined && { marker: r.marker }), ...(r.remaining !== undefined && { remaining: r.remaining }) });
    return {
      http: this.httpRules.map((r) => ({ ...r })),
      failTask: this.failRules.map(task),
      callbacks: this.callbackRules.map(task),
      pace: this.paceRules.map((r) => ({ stepMs: r.value, ...(r.marker !== undefined && { marker: r.marker }), ...(r.remaining !== undefined && { remaining: r.remaining }) })),
      forget: this.hideRules.map((r) => ({ ...r })),
    };
  }

  /** Consumes the first HTTP rule matching a request to `endpoint`. */
  takeHttpFault(endpoint: "create" | "query" | "file"): HttpFault | undefined {
    const i = this.httpRules.findIndex((r) => r.endpoint === endpoint || (r.endpoint === "any" && endpoint !== "file"));
    if (i < 0) return undefined;
    const rule = this.httpRules[i]!;
    rule.remaining -= 1;
    if (rule.remaining <= 0) this.httpRules.splice(i, 1);
    return rule;
  }

  /** Binds the task rules to a new task (consuming "next task" rules). */
  bindTask(prompt: string): { failure?: TaskFailure; callback?: CallbackFault; stepMs?: number } {
    const failure = this.take(this.failRules, prompt) ?? failureFromPrompt(prompt);
    const callback = this.take(this.callbackRules, prompt);
    const stepMs = this.take(this.paceRules, prompt);
    return { ...(failure && { failure }), ...(callback && { callback }), ...(stepMs !== undefined && { stepMs }) };
  }

  private selection(r: { marker?: string | undefined; count?: number | undefined }): { marker?: string; remaining?: number } {
    if (r.marker !== undefined) return { marker: r.marker, ...(r.count !== undefined && { remaining: r.count }) };
    return { remaining: r.count ?? 1 };
  }

  private take<T>(rules: Array<TaskRule<T>>, prompt: string): T | undefined {
    const i = rules.findIndex((r) => r.marker === undefined || prompt.includes(r.marker));
    if (i < 0) return undefined;
    const rule = rules[i]!;
    if (rule.remaining !== undefined) {
      rule.remaining -= 1;
      if (rule.remaining <= 0) rules.splice(i, 1);
    }
    return rule.value;
  }
}
