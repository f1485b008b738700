/**
 * Why a task failed, in plain words, and what to do about it: the one table
 * of the provider's error codes (/work/shared/evolink/API-NOTES.md: the
 * failed-task codes, the HTTP refusal codes of a create call, in both the
 * string and the older numeric form) and of the portal's own codes
 * (submission_unknown, deadline_exceeded, not_sent, cancelled,
 * provider_lost_task, provider_unreachable). Pure: no I/O, safe anywhere.
 */
import { MEDIA_RULES, formatBytes } from "../media/rules.ts";

export interface ErrorExplanation {
  /** The code as stored (the provider's or the portal's), shown as small secondary text. */
  code: string;
  /** A short heading: what happened. */
  title: string;
  /** What it means, in a sentence or two. */
  explanation: string;
  /** What the person can do now. */
  whatToDo: string;
  /** Whether running it again unchanged is worth a try (the provider's own clients retry these). */
  worthRetrying: boolean;
  /** Whose side the failure came from. */
  from: "provider" | "portal";
}

type Entry = Omit<ErrorExplanation, "code" | "from">;

const { image, clip } = MEDIA_RULES;
const IMAGE_RULE = `a PNG, JPEG, WebP or BMP file that opens normally, ${image.minSide} to ${image.maxSide} pixels a side, at most ${formatBytes(image.maxBytes)}`;

/** Codes of a task the provider accepted and then failed (`error.code` of the task object). */
const TASK_FAILURES: Record<string, Entry> = {
  content_policy_violation: {
    title: "Refused by the video service's content safety check",
    explanation: "The service judged the prompt or one of the images unsafe to turn into a video.",
    whatToDo: "Reword the prompt or use other images (for example without real people's likeness, violence or adult content), then run it again. Unchanged, it will be refused again.",
    worthRetrying: false,
  },
  invalid_parameters: {
    title: "The video service found the settings invalid",
    explanation: "The service refused the combination of settings and media for this model.",
    whatToDo: "Check the mode, duration, quality and media, change what looks wrong and run it again. If everything looks right, tell an admin: the portal's own checks may have missed a rule.",
    worthRetrying: false,
  },
  image_processing_error: {
    title: "The video service could not process an input image",
    explanation: "One of the images could not be read or processed by the model, although it passed the portal's checks.",
    whatToDo: `Use another image (${IMAGE_RULE}); re-exporting it from an ordinary image editor often helps. Then run it again.`,
    worthRetrying: false,
  },
  image_dimension_mismatch: {
    title: "The first and last frames have different sizes",
    explanation: "A first + last frame video needs both images to have the same width and height.",
    whatToDo: "Crop or resize one image so both match exactly, then run it again.",
    worthRetrying: false,
  },
  request_cancelled: {
    title: "Cancelled at the video service",
    explanation: "The task was cancelled on the video service's side before it finished.",
    whatToDo: "Run it again if you still want the video.",
    worthRetrying: false,
  },
  resource_not_found: {
    title: "The video service could not download an input file",
    explanation: "One of the media links could not be found or downloaded when the service fetched it.",
    whatToDo: "Check that every link still opens and is public (upload links of deleted tasks no longer work); upload the files again or use other links, then run it again.",
    worthRetrying: false,
  },
  generation_failed_no_content: {
    title: "The model produced no video",
    explanation: "The model finished without producing any content. This happens now and then.",
    whatToDo: "Run it again with the same settings; it usually works the second time. If it keeps happening, change the prompt.",
    worthRetrying: true,
  },
  service_error: {
    title: "The video service had an internal error",
    explanation: "Something went wrong inside the video service; your settings are not the cause.",
    whatToDo: "Run it again with the same settings.",
    worthRetrying: true,
  },
  generation_timeout: {
    title: "The video service ran out of time",
    explanation: "The model took too long and the service stopped the task.",
    whatToDo: "Run it again; a shorter duration or 720p finishes sooner.",
    worthRetrying: true,
  },
  resource_exhausted: {
    title: "The video service had no capacity left",
    explanation: "The service was too busy to generate the video.",
    whatToDo: "Run it again in a few minutes.",
    worthRetrying: true,
  },
  quota_exceeded: {
    title: "The video service reached its own usage limit",
    explanation: "The service's upstream quota was used up while it worked on this task.",
    whatToDo: "Run it again later. If it keeps happening, ask an admin to check the provider account.",
    worthRetrying: true,
  },
  service_unavailable: {
    title: "The video service was unavailable",
    explanation: "The service was temporarily down while it worked on this task.",
    whatToDo: "Run it again in a few minutes.",
    worthRetrying: true,
  },
  unknown_error: {
    title: "The video service reported an unknown error",
    explanation: "The service failed the task without saying why.",
    whatToDo: "Run it again once. If it fails the same way, tell an admin and give them this task's page.",
    worthRetrying: true,
  },
};

const ADMIN_KEY: Entry = {
  title: "The video service did not accept the portal's key",
  explanation: "The service refused the portal's API key, so the task was not made. Nothing was charged.",
  whatToDo: "Ask an admin to check the Evolink API key in the portal's settings, then run it again.",
  worthRetrying: false,
};
const BUSY: Entry = {
  title: "The video service was busy",
  explanation: "The service asked the portal to slow down and did not take the task. Nothing was charged.",
  whatToDo: "Run it again in a minute.",
  worthRetrying: true,
};
const NO_CREDIT: Entry = {
  title: "The video service account has no credit left",
  explanation: "The service refused the task because the portal's account needs a top-up. Nothing was charged.",
  whatToDo: "Ask an admin to top up the Evolink account, then run it again.",
  worthRetrying: false,
};
const REFUSED_INVALID: Entry = {
  title: "The video service refused the request",
  explanation: "The service found something in the request invalid and did not start the task. Nothing was charged.",
  whatToDo: "Read the service's message below, change the input it names and run it again.",
  worthRetrying: false,
};
const TOO_LARGE: Entry = {
  title: "The request was too large for the video service",
  explanation: "The service refused the request because of its size. Nothing was charged.",
  whatToDo: `Use smaller files (images at most ${formatBytes(image.maxBytes)}, clips at most ${formatBytes(clip.maxBytes)}) or a shorter prompt, then run it again.`,
  worthRetrying: false,
};
const SERVICE_DOWN: Entry = {
  title: "The video service could not take the task",
  explanation: "The service had a temporary problem and did not start the task. Nothing was charged.",
  whatToDo: "Run it again in a few minutes.",
  worthRetrying: true,
};
const NOT_FOUND_AT_PROVIDER: Entry = {
  title: "The video service did not find what the portal asked for",
  explanation: "The service answered \"not found\" (a wrong address, another account, or an expired task) and did not start the task. Nothing was charged.",
  whatToDo: "Run it again. If it happens again, tell an admin.",
  worthRetrying: true,
};
const UNREADABLE: Entry = {
  title: "The video service's answer could not be read",
  explanation: "The service answered in a form the portal does not understand; its API may have changed. Nothing was charged by the portal.",
  whatToDo: "Tell an admin; running it again will likely fail the same way until the portal is updated.",
  worthRetrying: false,
};

/**
 * Codes of a create call the provider refused over HTTP (nothing was
 * started), as the current API names them, as the older numeric form, and
 * the portal's fallback (the kind of error) when the body named none.
 */
const REFUSALS: Record<string, Entry> = {
  invalid_parameters: REFUSED_INVALID,
  bad_request: REFUSED_INVALID,
  "400": REFUSED_INVALID,
  unauthorized: ADMIN_KEY,
  unauthenticated: ADMIN_KEY,
  "401": ADMIN_KEY,
  permission_denied: ADMIN_KEY,
  forbidden: ADMIN_KEY,
  "403": ADMIN_KEY,
  quota_exceeded: NO_CREDIT,
  insufficient_quota: NO_CREDIT,
  "402": NO_CREDIT,
  task_not_found: NOT_FOUND_AT_PROVIDER,
  not_found: NOT_FOUND_AT_PROVIDER,
  "404": NOT_FOUND_AT_PROVIDER,
  request_too_large: TOO_LARGE,
  too_large: TOO_LARGE,
  "413": TOO_LARGE,
  rate_limit_exceeded: BUSY,
  rate_limited: BUSY,
  "429": BUSY,
  internal_error: SERVICE_DOWN,
  internal: SERVICE_DOWN,
  "500": SERVICE_DOWN,
  upstream_error: SERVICE_DOWN,
  upstream: SERVICE_DOWN,
  "502": SERVICE_DOWN,
  service_unavailable: SERVICE_DOWN,
  unavailable: SERVICE_DOWN,
  "503": SERVICE_DOWN,
  invalid_response: UNREADABLE,
};

/** The portal's own codes: it ended the task itself. */
const PORTAL: Record<string, Entry> = {
  submission_unknown: {
    title: "The video service never confirmed the submission",
    explanation:
      "The portal sent the task but never learned whether the service accepted it. It may have been made, and billed, on the service's side; the portal did not bill it.",
    whatToDo: "Before running it again, ask an admin to look for it in the provider's console, so the same video is not paid for twice.",
    worthRetrying: false,
  },
  deadline_exceeded: {
    title: "The video service took too long",
    explanation: "The service did not finish within the portal's time limit, so the portal stopped waiting. It is not billed.",
    whatToDo: "Run it again; if this keeps happening the service is slow right now, so try later.",
    worthRetrying: true,
  },
  not_sent: {
    title: "Never sent: the video service stayed busy",
    explanation: "The service kept asking the portal to wait, and the portal's time limit passed before it could send the task. Nothing was sent or charged.",
    whatToDo: "Run it again later.",
    worthRetrying: true,
  },
  cancelled: {
    title: "Cancelled before it was sent",
    explanation: "You cancelled this task before the portal sent it to the video service. Nothing was sent or charged.",
    whatToDo: "Run it again whenever you want the video.",
    worthRetrying: true,
  },
  provider_lost_task: {
    title: "The video service no longer knows this task",
    explanation:
      "The service had accepted the task, then answered several checks in a row that it has no such task, so it will not finish it. The portal ended it instead of waiting for its time limit; nothing was charged.",
    whatToDo: "Run it again. If this happens to many tasks at once, tell an admin: the service may have lost its work, or the portal may be using another account's key.",
    worthRetrying: true,
  },
  provider_unreachable: {
    title: "The video service could not be reached",
    explanation: "The portal could not connect to the service, so nothing was sent and nothing was charged.",
    whatToDo: "Run it again in a few minutes. If it keeps happening, ask an admin to check the provider settings.",
    worthRetrying: true,
  },
};

/** The explanation of a failed task. `accepted`: the provider had taken the task (it has the provider's id). */
export function explainTaskError(failure: { errorCode: string | null; accepted: boolean }): ErrorExplanation {
  const code = failure.errorCode?.trim() || "unknown_error";
  const portal = PORTAL[code];
  if (portal) return { code, from: "portal", ...portal };
  const entry = (failure.accepted ? TASK_FAILURES[code] : (REFUSALS[code] ?? TASK_FAILURES[code])) ?? TASK_FAILURES[code] ?? REFUSALS[code];
  if (entry) return { code, from: "provider", ...entry };
  return {
    code,
    from: "provider",
    title: "The video service reported an error the portal does not know",
    explanation: "The service failed the task with a code the portal has no explanation for yet.",
    whatToDo: "Run it again once. If it fails the same way, tell an admin and give them this task's page.",
    worthRetrying: true,
  };
}

/** Every code the table explains (for the tests and the docs). */
export const EXPLAINED_CODES = {
  taskFailures: Object.keys(TASK_FAILURES),
  refusals: Object.keys(REFUSALS),
  portal: Object.keys(PORTAL),
} as const;
