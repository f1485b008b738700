"use client";
/**
 * The new video form's state, checks and submit, for the field components:
 * the values (kept as a draft on this device per person), each file checked
 * as soon as it is given (media.check, or the upload's own check), the
 * errors to show, the estimate, the budget, and the submit with its
 * idempotency key. Opening the form with ?again=<task> or ?continue=<task>
 * fills it from that task (tasks.draftFrom).
 */
import { useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import { useRouter } from "next/navigation";
import { useCallback, useEffect, useMemo, useRef, useState, type FormEvent } from "react";
import { useTRPC } from "@/app/_components/trpc.ts";
import type { PriceTable } from "@/server/billing/billing.ts";
import { overBudgetMessage } from "@/server/budgets/messages.ts";
import { mergeFieldErrors, type FieldErrors } from "@/server/errors.ts";
import { createGenerationInputSchema, mediaUrlMessage, type MaterialName } from "@/server/generation/request-schema.ts";
import type { MeasuredFacts } from "@/server/media/rules.ts";
import {
  budgetIsOver,
  checkKey,
  defaultState,
  draftKey,
  estimateOf,
  evaluate,
  fieldOrder,
  fromRequest,
  nameFromUrl,
  parseDraft,
  sameState,
  visibleMaterials,
  type FileCheckState,
  type FileInfo,
  type FormState,
} from "./form-model.ts";
import type { Uploaded } from "./upload-button.tsx";

export interface NewTaskFormOptions {
  /** Origins whose media URLs are accepted over http: the simulator's and the portal's, in simulator mode only (httpMediaOrigins). */
  httpOrigins: string[];
  prices: PriceTable;
  /** The signed-in person: their draft is theirs alone on a shared computer. */
  userId: string;
  sampleImageUrl?: string;
  /** ?again=<taskId> or ?continue=<taskId>. */
  prefill?: { kind: "again" | "continue"; taskId: string };
}

/** A random v4 UUID; crypto.randomUUID exists only on https and localhost, getRandomValues everywhere. */
function newRequestId(): string {
  const b = crypto.getRandomValues(new Uint8Array(16));
  b[6] = (b[6]! & 0x0f) | 0x40;
  b[8] = (b[8]! & 0x3f) | 0x80;
  const h = Array.from(b, (x) => x.toString(16).padStart(2, "0")).join("");
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-${h.slice(12, 16)}-${h.slice(16, 20)}-${h.slice(20)}`;
}

export type Notice = { kind: "info" | "error"; text: string; canStartOver?: boolean };

/** How long a typed link stays still before it is checked (a paste is checked at once after it). */
const CHECK_AFTER_MS = 400;

export const LEAVE_MESSAGE = "Leave the new video form? Your unsent changes are kept as a draft on this device, and come back when you open New video again.";

export function useNewTaskForm(opts: NewTaskFormOptions) {
  const trpc = useTRPC();
  const router = useRouter();
  const queryClient = useQueryClient();
  const schema = useMemo(() => createGenerationInputSchema({ httpOrigins: opts.httpOrigins }), [opts.httpOrigins]);
  const defaults = useMemo(() => defaultState(opts.sampleImageUrl), [opts.sampleImageUrl]);

  const [state, setState] = useState<FormState>(defaults);
  /** What "unsent" is measured against: the form as opened, or as last sent. */
  const [baseline, setBaseline] = useState<FormState>(defaults);
  const [files, setFiles] = useState<Partial<Record<MaterialName, FileInfo>>>({});
  const [checks, setChecks] = useState<ReadonlyMap<string, FileCheckState>>(new Map());
  const [uploading, setUploading] = useState<ReadonlySet<MaterialName>>(new Set());
  /** An upload that was refused: about that file, not the field's current one; gone with the next change of the field. */
  const [refusedUploads, setRefusedUploads] = useState<Partial<Record<MaterialName, { name: string; messages: string[] }>>>({});
  const [touched, setTouched] = useState<ReadonlySet<string>>(new Set());
  const [submitted, setSubmitted] = useState(false);
  const [serverErrors, setServerErrors] = useState<FieldErrors>({});
  const [notice, setNotice] = useState<Notice | null>(null);
  /** Drafts are read once before they are written: the first render must not overwrite one. */
  const [loaded, setLoaded] = useState(false);
  const sent = useRef(false);
  // Idempotency key: a double click or a retried request makes one task, not two.
  const [clientRequestId, setClientRequestId] = useState(newRequestId);

  // Success or refusal, a task may have been stored: the history must not show a list from before it.
  const create = useMutation(
    trpc.tasks.create.mutationOptions({
      onSettled: () =>
        Promise.all([queryClient.invalidateQueries({ queryKey: trpc.tasks.pathKey() }), queryClient.invalidateQueries({ queryKey: trpc.usage.pathKey() })]),
    }),
  );
  const checkFile = useMutation(trpc.media.check.mutationOptions());
  const draftFrom = useMutation(trpc.tasks.draftFrom.mutationOptions());
  // What is left of the person's and the team's monthly budgets, shown beside the estimate.
  const budget = useQuery(trpc.usage.myBudget.queryOptions());

  const evaluation = evaluate(schema, state, { checks, touched, submitted, uploading });
  const estimate = estimateOf(opts.prices, state, evaluation);
  const cost = estimate.kind === "ok" ? estimate.estimate.cost : null;
  const budgetRefusal = useMemo(() => {
    const b = budget.data;
    if (!b || cost === null) return null;
    for (const scope of ["personal", "team"] as const) {
      const use = scope === "personal" ? b.personal : b.team;
      if (budgetIsOver(cost, use.remaining, use.limit)) {
        return overBudgetMessage({ scope, estimate: cost, left: use.remaining ?? 0, limit: use.limit ?? 0, currency: b.currency, renewsOn: b.renewsOn });
      }
    }
    return null;
  }, [budget.data, cost]);

  // --- The draft: restored once, then kept on every change ------------------------
  const storageKey = draftKey(opts.userId);
  const prefilled = useRef(false);
  useEffect(() => {
    if (prefilled.current) return;
    prefilled.current = true;
    if (opts.prefill) {
      const { kind, taskId } = opts.prefill;
      draftFrom
        .mutateAsync({ taskId, as: kind })
        .then((draft) => {
          const next = fromRequest(draft.values, defaults);
          setState(next);
          setBaseline(next);
          const uploaded = Object.fromEntries(Object.entries(draft.uploads ?? {}).map(([field, name]) => [field, { name, uploaded: true }]));
          if (draft.clip) {
            setFiles({ ...uploaded, video_urls: { name: draft.clip.name, uploaded: true } });
            setChecks(new Map([[checkKey("video_urls", draft.clip.url), { status: "ok", facts: draft.clip.facts as MeasuredFacts }]]));
          } else {
            setFiles(uploaded);
          }
          setNotice({
            kind: "info",
            text:
              kind === "again"
                ? "Filled in with the settings of an earlier video. Change what you like, then generate."
                : "Filled in to continue an earlier video: the portal's copy is the clip to continue. Describe what happens next, then generate.",
          });
        })
        .catch((err: unknown) => setNotice({ kind: "error", text: (err as Error).message || "The form could not be filled from that video." }))
        .finally(() => {
          setLoaded(true);
          // A reload now restores the draft, not the task over the person's changes (the page is not fetched again).
          window.history.replaceState(window.history.state, "", "/tasks/new");
        });
      return;
    }
    const draft = parseDraft(window.localStorage.getItem(storageKey));
    if (draft && !sameState(draft.state, defaults)) {
      setState(draft.state);
      setFiles(draft.files);
      const at = new Date(draft.savedAt);
      setNotice({
        kind: "info",
        text: `Your unsent draft${Number.isNaN(at.getTime()) ? "" : ` from ${at.toLocaleString("en-GB", { dateStyle: "medium", timeStyle: "short" })}`} is back.`,
        canStartOver: true,
      });
    }
    setLoaded(true);
    // Once per opening of the form.
    // eslint-disable-next-line react-hooks/exhaustive-deps
  }, []);

  useEffect(() => {
    if (!loaded || sent.current) return;
    if (sameState(state, defaults)) window.localStorage.removeItem(storageKey);
    else window.localStorage.setItem(storageKey, JSON.stringify({ v: 1, savedAt: new Date().toISOString(), state, files }));
  }, [loaded, state, files, defaults, storageKey]);

  const dirty = loaded && !sent.current && !sameState(state, baseline);

  // --- Checking each file as soon as it is given ---------------------------------------
  const visible = visibleMaterials(state.mode);
  const toCheck = visible
    .filter((f) => state[f].trim() !== "" && !checks.has(checkKey(f, state[f])) && !uploading.has(f))
    // A link the request schema refuses is refused beside the field already; nothing to fetch.
    .filter((f) => mediaUrlMessage(f, state[f], { httpOrigins: opts.httpOrigins }) === null)
    .map((f) => [f, state[f].trim()] as const);
  const toCheckKey = toCheck.map(([f, u]) => checkKey(f, u)).join("\n");
  useEffect(() => {
    if (toCheck.length === 0) return;
    const timer = setTimeout(() => {
      for (const [field, url] of toCheck) {
        const key = checkKey(field, url);
        setChecks((m) => new Map(m).set(key, { status: "checking" }));
        checkFile
          .mutateAsync({ field, url })
          .then((r): FileCheckState => (r.status === "ok" ? { status: "ok", facts: r.facts } : r.status === "refused" ? { status: "refused", errors: r.errors, ...(r.facts && { facts: r.facts }) } : { status: "unchecked", notice: r.notice }))
          .catch((err: unknown): FileCheckState => ({ status: "unchecked", notice: (err as Error).message || "The file could not be checked now; it is checked when you submit." }))
          .then((result) => setChecks((m) => new Map(m).set(key, result)));
      }
    }, CHECK_AFTER_MS);
    return () => clearTimeout(timer);
    // The list is keyed by its text: a re-render with the same links schedules nothing new.
    // eslint-disable-next-line react-hooks/exhaustive-deps
  }, [toCheckKey]);

  // --- Changing fields --------------------------------------------------------------
  const dropServerError = (name: string) =>
    setServerErrors((e) => {
      if (!e[name] && !e._form) return e;
      const { [name]: _dropped, _form: _formDropped, ...rest } = e;
      return rest;
    });

  const set = useCallback(<K extends keyof FormState>(key: K, value: FormState[K]) => {
    const name = key === "mode" ? "generation_mode" : key;
    setState((s) => ({ ...s, [key]: value }));
    setTouched((t) => (t.has(name) ? t : new Set([...t, name])));
    dropServerError(name);
    if (key !== "mode" && (visibleMaterials("") as string[]).includes(key)) {
      const field = key as MaterialName;
      const link = String(value).trim();
      // A typed link is a link, named by its path; the refusal of an earlier upload no longer applies.
      setFiles(({ [field]: _old, ...rest }) => (link === "" ? rest : { ...rest, [field]: { name: nameFromUrl(link), uploaded: false } }));
      setRefusedUploads(({ [field]: _gone, ...rest }) => rest);
    }
  }, []);

  const media = {
    start(field: MaterialName) {
      setUploading((u) => new Set([...u, field]));
      setRefusedUploads(({ [field]: _gone, ...rest }) => rest);
      dropServerError(field);
    },
    done(field: MaterialName) {
      setUploading((u) => new Set([...u].filter((f) => f !== field)));
    },
    uploaded(field: MaterialName, file: Uploaded) {
      setState((s) => ({ ...s, [field]: file.url }));
      setFiles((f) => ({ ...f, [field]: { name: file.name, uploaded: true } }));
      // The upload was checked with the same rules as it was stored: its facts are the check.
      setChecks((m) => new Map(m).set(checkKey(field, file.url), { status: "ok", facts: file.facts }));
      setTouched((t) => new Set([...t, field]));
    },
    refused(field: MaterialName, name: string, messages: string[]) {
      setRefusedUploads((r) => ({ ...r, [field]: { name, messages } }));
    },
    remove(field: MaterialName) {
      setState((s) => ({ ...s, [field]: "" }));
      setFiles(({ [field]: _gone, ...rest }) => rest);
      setRefusedUploads(({ [field]: _gone, ...rest }) => rest);
      setTouched((t) => new Set([...t, field]));
      dropServerError(field);
      // The Remove button goes away: focus goes to the link field that takes its place.
      requestAnimationFrame(() => document.getElementById(`f-${field}`)?.focus());
    },
  };

  function startOver() {
    setState(defaults);
    setBaseline(defaults);
    setFiles({});
    setRefusedUploads({});
    setTouched(new Set());
    setSubmitted(false);
    setServerErrors({});
    setNotice(null);
    window.localStorage.removeItem(storageKey);
  }

  // --- What is shown -------------------------------------------------------------
  const shown = mergeFieldErrors(evaluation.shown, serverErrors);
  const errorsFor = (name: string): string[] => shown[name] ?? [];
  const refusedUploadFor = (field: MaterialName) => refusedUploads[field];
  const checkFor = (field: MaterialName): FileCheckState | undefined => (state[field].trim() === "" ? undefined : checks.get(checkKey(field, state[field])));
  const shownFields = new Set(fieldOrder(state.mode));
  // Messages for anything not shown beside a field (and for the request as a whole) go above the button.
  const formErrors = [...new Set(Object.entries(shown).filter(([k]) => !shownFields.has(k)).flatMap(([, m]) => m))];
  const busy = evaluation.pending.length > 0;

  /** Moves focus to the first field with an error (in the order shown), else to the form's own message. */
  function focusFirstError(errors: FieldErrors) {
    const first = fieldOrder(state.mode).find((name) => (errors[name]?.length ?? 0) > 0);
    const target = first ? (document.getElementById(`f-${first}`) ?? document.getElementById(`f-${first}-remove`)) : document.getElementById("form-errors");
    // After React has shown the messages the element is described by.
    requestAnimationFrame(() => target?.focus());
  }

  async function submit(e: FormEvent) {
    e.preventDefault();
    setSubmitted(true);
    if (busy || create.isPending) return;
    const all = mergeFieldErrors(evaluation.errors, serverErrors);
    if (Object.values(all).some((m) => m.length > 0) || !evaluation.request.success) return focusFirstError(all);
    if (budgetRefusal) {
      // Refused here, before anything is sent: the server would refuse it too.
      setServerErrors({ _form: [budgetRefusal] });
      return focusFirstError({ _form: [budgetRefusal] });
    }
    setServerErrors({});
    try {
      const task = await create.mutateAsync({ ...evaluation.request.data, clientRequestId });
      sent.current = true;
      window.localStorage.removeItem(storageKey);
      router.push(`/tasks/${task.id}`);
    } catch (err) {
      const data = (err as { data?: { fieldErrors?: FieldErrors | null } }).data;
      // The server answered: the next submission is a new request, and what was sent is no longer "unsent".
      // Without an answer (network failure) the same key is kept, so a retry cannot pay twice.
      if (data) {
        setClientRequestId(newRequestId());
        setBaseline(state);
      }
      const fieldErrors = data?.fieldErrors;
      const errors = fieldErrors && Object.keys(fieldErrors).length > 0 ? mergeFieldErrors(fieldErrors) : { _form: [(err as Error).message] };
      setServerErrors(errors);
      focusFirstError(errors);
    }
  }

  return {
    /** The form is live: React has taken it over and restored its draft or earlier video, if any. */
    ready: loaded,
    state,
    set,
    files,
    media,
    visible,
    detectedMode: evaluation.mode,
    errorsFor,
    refusedUploadFor,
    checkFor,
    formErrors,
    notices: evaluation.notices,
    estimate,
    budget: budget.data,
    busy,
    uploading: uploading.size > 0,
    submitting: create.isPending,
    submit,
    dirty,
    notice,
    startOver,
  };
}

export type NewTaskFormModel = ReturnType<typeof useNewTaskForm>;
