/**
 * The task page's pure rules: the explanation of every error code (the
 * provider's, written down here from API-NOTES.md independently of the
 * module, and the portal's own), the continuation rule, what the portal says
 * while a task waits, the parameters as sent, the video's file name, and the
 * timeline's words.
 */
import { describe, expect, it } from "vitest";
import type { Task } from "@/server/db/client.ts";
import { MEDIA_RULES } from "@/server/media/rules.ts";
import { continuationBlocker } from "@/server/tasks/continuation.ts";
import { sentParameters, waitingOf } from "@/server/tasks/detail.ts";
import { EXPLAINED_CODES, explainTaskError } from "@/server/tasks/error-explanations.ts";
import { describeTaskEvent, TASK_EVENT_KINDS } from "@/server/tasks/events.ts";
import { videoFileName } from "@/server/tasks/files.ts";
import { UPLOADS_UNAVAILABLE } from "@/server/uploads/availability.ts";

// /work/shared/evolink/API-NOTES.md, "Failed-task error codes worth retrying".
const WORTH_RETRYING = ["generation_timeout", "quota_exceeded", "resource_exhausted", "generation_failed_no_content", "service_error", "service_unavailable", "unknown_error"];
const INPUT_MUST_CHANGE = ["content_policy_violation", "invalid_parameters", "image_dimension_mismatch", "image_processing_error", "request_cancelled", "resource_not_found"];
// Its "HTTP errors": the string codes of the current reference, and the statuses an older revision put in `code`.
const HTTP_CODES = ["invalid_task_id", "unauthorized", "quota_exceeded", "permission_denied", "task_not_found", "rate_limit_exceeded", "internal_error"];
const HTTP_STATUSES = ["400", "401", "402", "403", "404", "413", "429", "500", "502", "503"];
// The portal's own codes (server/tasks: reconcile.ts, tasks.ts).
const PORTAL_CODES = ["submission_unknown", "deadline_exceeded", "not_sent", "cancelled", "provider_lost_task", "provider_unreachable"];

const FALLBACK_TITLE = explainTaskError({ errorCode: "a_code_nobody_knows", accepted: true }).title;

describe("error explanations", () => {
  it.each([...WORTH_RETRYING, ...INPUT_MUST_CHANGE])("%s (a failed task) is explained in plain words with what to do", (code) => {
    const e = explainTaskError({ errorCode: code, accepted: true });
    expect(e.code).toBe(code);
    expect(e.from).toBe("provider");
    expect(e.title).not.toBe(FALLBACK_TITLE);
    expect(e.explanation.length).toBeGreaterThan(20);
    expect(e.whatToDo.length).toBeGreaterThan(10);
    // Plain words: no API field names or codes in what a person reads first.
    expect(`${e.title} ${e.explanation} ${e.whatToDo}`).not.toMatch(/_/);
    expect(e.worthRetrying).toBe(WORTH_RETRYING.includes(code));
  });

  it.each(PORTAL_CODES)("the portal's own %s is explained as the portal's", (code) => {
    const e = explainTaskError({ errorCode: code, accepted: false });
    expect(e).toMatchObject({ code, from: "portal" });
    expect(e.title).not.toBe(FALLBACK_TITLE);
    expect(`${e.title} ${e.explanation} ${e.whatToDo}`).not.toMatch(/_/);
  });

  it.each([...HTTP_CODES.filter((c) => c !== "invalid_task_id"), ...HTTP_STATUSES])("a create refused with %s is explained (nothing was charged)", (code) => {
    const e = explainTaskError({ errorCode: code, accepted: false });
    expect(e.title).not.toBe(FALLBACK_TITLE);
    expect(e.explanation).toMatch(/Nothing was charged/);
  });

  it("quota_exceeded means no credit when the create was refused, and the service's own limit when a task failed", () => {
    expect(explainTaskError({ errorCode: "quota_exceeded", accepted: false }).whatToDo).toMatch(/top up/);
    expect(explainTaskError({ errorCode: "quota_exceeded", accepted: true }).whatToDo).not.toMatch(/top up/);
  });

  it("the 402 of an older revision, the portal's kind and the current code say the same", () => {
    const titles = ["402", "insufficient_quota", "quota_exceeded"].map((code) => explainTaskError({ errorCode: code, accepted: false }).title);
    expect(new Set(titles).size).toBe(1);
  });

  it("speaks of the image rules with the media rules' own numbers", () => {
    const e = explainTaskError({ errorCode: "image_processing_error", accepted: true });
    expect(e.whatToDo).toContain(`${MEDIA_RULES.image.minSide} to ${MEDIA_RULES.image.maxSide} pixels`);
  });

  it("an unknown or missing code still says something useful, worth one more try", () => {
    const unknown = explainTaskError({ errorCode: "brand_new_code", accepted: true });
    expect(unknown).toMatchObject({ code: "brand_new_code", from: "provider", worthRetrying: true });
    expect(unknown.whatToDo).toMatch(/admin/);
    expect(explainTaskError({ errorCode: null, accepted: true }).code).toBe("unknown_error");
    expect(explainTaskError({ errorCode: "  ", accepted: true }).code).toBe("unknown_error");
  });

  it("explains exactly the provider's documented failed-task codes, no invented ones", () => {
    expect([...EXPLAINED_CODES.taskFailures].sort()).toEqual([...WORTH_RETRYING, ...INPUT_MUST_CHANGE].sort());
    expect([...EXPLAINED_CODES.portal].sort()).toEqual([...PORTAL_CODES].sort());
  });
});

const task = (t: Partial<Task>): Task =>
  ({
    id: "3f2a9c1e-7b4d-4e21-9a0b-0c1d2e3f4a5b",
    status: "completed",
    archiveStatus: "archived",
    archiveKey: "results/3f2a9c1e.mp4",
    filesDeletedAt: null,
    durationSeconds: 5,
    createdAt: new Date("2026-11-26T23:50:00Z"),
    completedAt: new Date("2026-11-27T00:02:00Z"),
    submitAttemptedAt: null,
    providerTaskId: null,
    nextPollAt: null,
    mode: "first_frame",
    prompt: "p",
    quality: "720p",
    request: {},
    ...t,
  }) as Task;

describe("continuing a video (the one rule of the task page and tasks.draftFrom)", () => {
  const { minSeconds, maxSeconds } = MEDIA_RULES.clip;
  const on = { uploads: { enabled: true } } as const;
  const off = { uploads: { enabled: false, reason: UPLOADS_UNAVAILABLE } } as const;

  it("is allowed for a completed video the portal keeps, within the clip's length, when uploads are reachable", () => {
    expect(continuationBlocker(task({ durationSeconds: maxSeconds }), on)).toBeNull();
    expect(continuationBlocker(task({ durationSeconds: minSeconds }), on)).toBeNull();
  });

  it("is refused when the video is longer or shorter than a clip may be, by its billed or measured length", () => {
    expect(continuationBlocker(task({ durationSeconds: maxSeconds + 1 }), on)).toBe(
      `This video is ${maxSeconds + 1} s long; a clip to continue may be at most ${maxSeconds} s, so it cannot be continued as it is. Trim it to ${maxSeconds} s or less and upload it as the clip instead.`,
    );
    expect(continuationBlocker(task({ durationSeconds: minSeconds - 1 }), on)).toMatch(new RegExp(`must be at least ${minSeconds} s`));
    expect(continuationBlocker(task({ durationSeconds: 5, billedSeconds: maxSeconds + 2 }), on)).toMatch(new RegExp(`^This video is ${maxSeconds + 2} s long`));
    // The file itself, once read, decides (the provider may return a little more than asked).
    expect(continuationBlocker(task({ durationSeconds: maxSeconds }), { ...on, measuredSeconds: maxSeconds + 0.5 })).toMatch(new RegExp(`^This video is ${maxSeconds + 0.5} s long`));
    expect(continuationBlocker(task({ durationSeconds: 5 }), { ...on, measuredSeconds: 5.04 })).toBeNull();
  });

  it("is refused without a portal copy, after a deletion, or before the task completed, saying what to do", () => {
    expect(continuationBlocker(task({ archiveStatus: "failed" }), on)).toMatch(/^This video was not saved in the portal.*upload it as the clip instead\.$/);
    expect(continuationBlocker(task({ archiveStatus: "archived", archiveKey: null }), on)).toMatch(/was not saved in the portal/);
    expect(continuationBlocker(task({ archiveStatus: "pending" }), on)).toMatch(/not saved in the portal yet; it can be continued once it is/);
    expect(continuationBlocker(task({ archiveStatus: "none", archiveKey: null }), on)).toMatch(/returned no video file/);
    expect(continuationBlocker(task({ filesDeletedAt: new Date() }), on)).toMatch(/^This video was deleted from the portal.*upload it as the clip/);
    expect(continuationBlocker(task({ status: "failed" }), on)).toMatch(/made no video.*run it again/);
    expect(continuationBlocker(task({ status: "processing" }), on)).toMatch(/once the video is ready/);
  });

  it("is refused with the form's own reason when the provider could not fetch an upload link", () => {
    expect(continuationBlocker(task({}), off)).toMatch(/cannot reach here\./);
    expect(continuationBlocker(task({}), off)?.endsWith(UPLOADS_UNAVAILABLE)).toBe(true);
    // A reason that holds whatever the configuration comes first.
    expect(continuationBlocker(task({ filesDeletedAt: new Date() }), off)).toMatch(/deleted/);
  });
});

describe("what the portal says while a task waits", () => {
  const policy = { taskDeadlineMinutes: 120, submitUnknownGraceMinutes: 10, pollIntervalSeconds: 15 };
  const created = new Date("2026-11-26T10:00:00Z");
  const now = new Date("2026-11-26T10:01:00Z");
  const minutes = (m: number) => new Date(created.getTime() + m * 60_000);

  it("stored, not sent: the reconciler sends it 30 s after it was stored at the latest; gives up at the deadline", () => {
    expect(waitingOf(task({ status: "submitting", createdAt: created }), policy, now)).toMatchObject({
      stage: "stored",
      nextAttemptAt: new Date(created.getTime() + 30_000),
      givesUpAt: minutes(120),
    });
  });
  it("busy: the next attempt is when the provider asked", () => {
    expect(waitingOf(task({ status: "submitting", createdAt: created, nextPollAt: minutes(11) }), policy, now)).toMatchObject({ stage: "busy", nextAttemptAt: minutes(11), givesUpAt: minutes(120) });
  });
  it("sent without an answer: gives up after the grace for unknown submissions (or the deadline, if sooner)", () => {
    const sent = task({ status: "submitting", createdAt: created, submitAttemptedAt: minutes(0.5) });
    expect(waitingOf(sent, policy, now)).toMatchObject({ stage: "unconfirmed", sentAt: minutes(0.5), givesUpAt: minutes(10.5) });
    expect(waitingOf(sent, { ...policy, taskDeadlineMinutes: 5 }, now)?.givesUpAt).toEqual(minutes(5));
  });
  it("accepted: runs until the deadline; an ended task waits for nothing", () => {
    expect(waitingOf(task({ status: "processing", createdAt: created, submitAttemptedAt: created, providerTaskId: "task-unified-1-x" }), policy, now)).toMatchObject({
      stage: "running",
      givesUpAt: minutes(120),
      pollEverySeconds: 15,
    });
    expect(waitingOf(task({ status: "failed" }), policy, now)).toBeNull();
  });
});

describe("the parameters as sent", () => {
  it("come from the stored request, with the provider's defaults for what was not sent", () => {
    const request = { model: "wan2.7-image-to-video", generation_mode: "first_last_frame", prompt: "sent", image_start: "a", image_end: "b", audio_urls: ["c"], quality: "1080p", duration: 7, seed: 42, prompt_extend: true, callback_url: "https://x/cb?token=secret" };
    expect(sentParameters(task({ request }))).toEqual({ mode: "first_last_frame", prompt: "sent", negativePrompt: null, seed: 42, promptExtend: true, quality: "1080p", duration: 7, audio: true });
    expect(sentParameters(task({ request: {}, prompt: "stored", quality: "720p", durationSeconds: 5 }))).toEqual({
      mode: "first_frame",
      prompt: "stored",
      negativePrompt: null,
      seed: null,
      promptExtend: false,
      quality: "720p",
      duration: 5,
      audio: false,
    });
  });
});

describe("the video's file name", () => {
  it("is wan-<UTC day it ended>-<first 8 hex digits of the id>.mp4", () => {
    expect(videoFileName(task({}))).toBe("wan-2026-11-27-3f2a9c1e.mp4");
    expect(videoFileName(task({ completedAt: null }))).toBe("wan-2026-11-26-3f2a9c1e.mp4");
  });
});

describe("the timeline's words", () => {
  it("has a sentence for every kind, and says where a change came from", () => {
    for (const kind of TASK_EVENT_KINDS) {
      const { title } = describeTaskEvent({ kind, status: null, progress: null, source: null, detail: null });
      expect(title, kind).not.toBe(kind);
    }
    expect(describeTaskEvent({ kind: "progress", status: "processing", progress: 40, source: "poll", detail: null })).toEqual({
      title: "Now generating, 40 %",
      detail: "found by the portal's check",
    });
    expect(describeTaskEvent({ kind: "failed", status: "failed", progress: 0, source: "callback", detail: "content_policy_violation" }).detail).toBe(
      "content_policy_violation · reported by a callback, confirmed with the service",
    );
  });
});
