"use client";
import { useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import Link from "next/link";
import { useEffect, useState } from "react";
import { when } from "@/app/_components/format.ts";
import { useTRPC } from "@/app/_components/trpc.ts";
import { billedLabel, modeLabel, StatusBadge } from "@/app/_components/task-status.tsx";
import { isTerminal } from "@/server/generation/status.ts";
import type { InputView, TaskDetailView, Waiting } from "@/server/tasks/detail.ts";
import { sourceLabel } from "@/server/tasks/source.ts";
import { ConfirmDialog } from "./confirm-dialog.tsx";
import styles from "./task-page.module.css";

type Task = TaskDetailView;

function archiveLabel(task: Task): string {
  if (task.filesDeletedAt) return `Deleted on ${when(task.filesDeletedAt)}`;
  if (task.archiveStatus === "archived") return "Saved in the portal";
  if (task.archiveStatus === "failed") return `Not saved: ${task.archiveError ?? "unknown error"} (the provider's link expires 24 h after completion)`;
  return task.archiveError ? `Saving… (${task.archiveError})` : "Saving…";
}

/** Keeps polling while the task runs or its copy is being made. */
const live = (t: Task | undefined) => !t || !isTerminal(t.status) || t.archiveStatus === "pending";

export function TaskDetail({ id }: { id: string }) {
  const trpc = useTRPC();
  const { data: task, error, isLoading } = useQuery(trpc.tasks.get.queryOptions({ id }, { refetchInterval: (q) => (live(q.state.data) ? 1500 : false) }));
  if (isLoading) return <p className="muted">Loading…</p>;
  if (error || !task) {
    return (
      <article className="task">
        <h1>Task not shown</h1>
        <p className="error">{error?.message ?? "No such task in your history."}</p>
        <p>
          <Link href="/tasks">Back to my history</Link>
        </p>
      </article>
    );
  }
  const mine = task.isOwner;
  const video = task.videoUrl;
  return (
    <article className="task">
      <p>{mine ? <Link href="/tasks">← My history</Link> : <Link href="/admin/tasks">← All tasks</Link>}</p>
      <h1>
        Task <StatusBadge status={task.status} errorCode={task.errorCode} />
      </h1>
      <p className="prompt">{task.prompt}</p>

      {!isTerminal(task.status) && (
        <>
          <div className={styles.progress}>
            <div className={styles.track} role="progressbar" aria-label="Progress" aria-valuenow={task.progress} aria-valuemin={0} aria-valuemax={100}>
              <div className={styles.bar} style={{ width: `${task.progress}%` }} />
            </div>
            <span className={styles.percent}>{task.progress}%</span>
          </div>
          {task.waiting && <WaitingPanel task={task} waiting={task.waiting} />}
        </>
      )}

      {task.status === "completed" && video && <video data-testid="result-video" src={video} controls autoPlay muted loop playsInline className={styles.result} />}
      {task.filesDeletedAt && (
        <div className={`${styles.panel} ${styles.deleted}`} data-testid="files-deleted">
          <p>
            <strong>The video and the uploaded inputs were deleted from the portal&apos;s storage on {when(task.filesDeletedAt)}.</strong>
          </p>
          <p>The settings, the cost and the billing record stay here.</p>
        </div>
      )}
      {task.status === "failed" && <FailurePanel task={task} />}
      {isTerminal(task.status) && <ResultActions task={task} />}

      <section className={styles.section} aria-labelledby="sent-heading">
        <h2 id="sent-heading">Settings as sent</h2>
        <Parameters task={task} />
      </section>

      <section className={styles.section} aria-labelledby="inputs-heading">
        <h2 id="inputs-heading">Input media</h2>
        <Inputs inputs={task.inputs} />
      </section>

      <section className={styles.section} aria-labelledby="facts-heading">
        <h2 id="facts-heading">Cost and record</h2>
        <dl className={styles.facts}>
          <dt>Owner</dt>
          <dd data-testid="owner">{mine ? "You" : task.owner.name ? `${task.owner.name} (${task.owner.email})` : task.owner.email}</dd>
          <dt>Made with</dt>
          <dd data-testid="source">{sourceLabel(task.source)}</dd>
          <dt>Estimated cost</dt>
          <dd>
            {task.estimatedCost.toFixed(3)} {task.currency}
          </dd>
          <dt>Billed</dt>
          <dd data-testid="billed">{billedLabel(task)}</dd>
          {task.cost !== null && (
            <>
              <dt>Cost</dt>
              <dd data-testid="cost">
                {task.cost.toFixed(3)} {task.currency}
              </dd>
            </>
          )}
          {task.status === "completed" && (
            <>
              <dt>Portal copy</dt>
              <dd data-testid="archive">{archiveLabel(task)}</dd>
            </>
          )}
          <dt>Created</dt>
          <dd>{when(task.createdAt)}</dd>
          {task.completedAt && (
            <>
              <dt>Ended</dt>
              <dd>{when(task.completedAt)}</dd>
            </>
          )}
          <dt>Task id</dt>
          <dd className="mono">{task.id}</dd>
          <dt>Provider task</dt>
          <dd className="mono">{task.providerTaskId ?? "—"}</dd>
        </dl>
      </section>

      <Timeline id={task.id} live={live(task)} version={`${task.status} ${task.progress} ${task.archiveStatus} ${String(task.filesDeletedAt)}`} />
      {task.canDeleteFiles && <DeleteFiles task={task} />}
    </article>
  );
}

/** What the portal is doing with a task that has not ended, until when, and the owner's cancel while nothing was sent. */
function WaitingPanel({ task, waiting }: { task: Task; waiting: Waiting }) {
  const stage = waiting.stage;
  return (
    <div className={styles.panel} data-testid="waiting" data-stage={stage}>
      {stage === "stored" && (
        <p>
          <strong>Stored, not sent yet.</strong> The portal is sending this task to the video service
          {waiting.nextAttemptAt && new Date(waiting.nextAttemptAt).getTime() > Date.now() + 2000 ? ` (at the latest at ${when(waiting.nextAttemptAt)})` : ""}. Nothing has been
          sent or charged. If it cannot send it by {when(waiting.givesUpAt)}, it gives up.
        </p>
      )}
      {stage === "busy" && (
        <p>
          <strong>The video service is busy, so the portal has not sent this task yet.</strong> It tries again at {when(waiting.nextAttemptAt)}, and gives up at{" "}
          {when(waiting.givesUpAt)} if the service stays busy. Nothing has been sent or charged.
        </p>
      )}
      {stage === "unconfirmed" && (
        <>
          <p>
            <strong>Sent at {when(waiting.sentAt)}, but the video service has not confirmed it.</strong> The task may be running there, and may be billed, so it can no
            longer be cancelled.
          </p>
          <p>
            The portal waits for the service to report it until {when(waiting.givesUpAt)}. If nothing comes, it marks the task &quot;outcome unknown&quot; (not billed
            by the portal) and asks you to check before running it again.
          </p>
        </>
      )}
      {stage === "running" && (
        <p>
          <strong>{task.status === "processing" ? "The video service is making the video." : "The video service has the task and will start it soon."}</strong> The
          portal hears from the service when it ends and checks about every {Math.round(waiting.pollEverySeconds)} s meanwhile; if it has not finished by{" "}
          {when(waiting.givesUpAt)}, the portal stops waiting (not billed). A task the service has cannot be cancelled: it offers no way to stop it.
        </p>
      )}
      {task.canCancel && <CancelTask id={task.id} />}
      <NotifyMe />
    </div>
  );
}

function CancelTask({ id }: { id: string }) {
  const trpc = useTRPC();
  const queryClient = useQueryClient();
  const [open, setOpen] = useState(false);
  const cancel = useMutation(
    trpc.tasks.cancel.mutationOptions({
      onSuccess: async () => {
        setOpen(false);
        await queryClient.invalidateQueries({ queryKey: trpc.tasks.get.queryKey({ id }) });
        await queryClient.invalidateQueries({ queryKey: trpc.tasks.timeline.queryKey({ id }) });
      },
    }),
  );
  return (
    <div className={styles.actions}>
      <button type="button" className={`${styles.button} ${styles.secondary}`} onClick={() => setOpen(true)}>
        Cancel task
      </button>
      {!open && cancel.error && <p className="error">{cancel.error.message}</p>}
      <ConfirmDialog
        open={open}
        title="Cancel this task?"
        confirmLabel="Cancel the task"
        cancelLabel="Keep it"
        busy={cancel.isPending}
        error={cancel.error?.message}
        onConfirm={() => cancel.mutate({ id })}
        onClose={() => setOpen(false)}
      >
        <p>It has not been sent to the video service, so nothing is charged. It stays in your history as cancelled.</p>
      </ConfirmDialog>
    </div>
  );
}

/** Offers the browser's notifications while a task runs, when the person has not decided yet. */
function NotifyMe() {
  const [permission, setPermission] = useState<NotificationPermission | "unsupported" | null>(null);
  useEffect(() => setPermission("Notification" in window ? Notification.permission : "unsupported"), []);
  if (permission === "granted") return <p className="muted small">Your browser will also notify you when it ends, while the portal is open in a tab.</p>;
  if (permission !== "default") return null;
  return (
    <div className={styles.actions}>
      <button type="button" className={`${styles.button} ${styles.secondary}`} onClick={() => void Notification.requestPermission().then(setPermission)}>
        Notify me in the browser when it ends
      </button>
    </div>
  );
}

function FailurePanel({ task }: { task: Task }) {
  const e = task.explanation;
  if (!e) return null;
  const message = task.errorMessage?.trim();
  return (
    <section className={`${styles.panel} ${styles.failure}`} aria-labelledby="failure-heading" data-testid="failure">
      <h2 id="failure-heading">{e.title}</h2>
      <p>{e.explanation}</p>
      <p>
        <strong>What to do:</strong> {e.whatToDo}
      </p>
      {message && (
        <p className="small">
          {e.from === "provider" ? "The video service said: " : "Details: "}
          {message}
        </p>
      )}
      <p className={styles.code}>
        {e.from === "provider" ? "Provider's error code" : "Portal's code"}: {e.code}
        {e.worthRetrying ? " · worth running again" : " · change something before running it again"}
      </p>
    </section>
  );
}

/** Download, Run again, Continue, Copy seed: what can be done with an ended task. */
function ResultActions({ task }: { task: Task }) {
  const seed = task.parameters.seed;
  const [copied, setCopied] = useState<string | null>(null);
  const copySeed = () => {
    if (seed === null) return;
    navigator.clipboard.writeText(String(seed)).then(
      () => setCopied(`Seed ${seed} copied`),
      () => setCopied("The browser did not allow copying; select the seed under Settings as sent and copy it."),
    );
  };
  const blocked = task.status === "completed" ? task.continuationBlocked : null;
  return (
    <div className={styles.actions} data-testid="actions">
      {task.download && (
        <a className={styles.button} href={task.download.url} download={task.download.fileName}>
          Download video
        </a>
      )}
      <Link className={`${styles.button} ${styles.secondary}`} href={`/tasks/new?again=${encodeURIComponent(task.id)}`}>
        Run again with these settings
      </Link>
      {task.status === "completed" &&
        (blocked === null ? (
          <Link className={`${styles.button} ${styles.secondary}`} href={`/tasks/new?continue=${encodeURIComponent(task.id)}`}>
            Continue this video
          </Link>
        ) : (
          <button type="button" className={`${styles.button} ${styles.secondary}`} disabled aria-describedby="continue-reason">
            Continue this video
          </button>
        ))}
      {seed !== null && (
        <button type="button" className={`${styles.button} ${styles.secondary}`} onClick={copySeed}>
          Copy seed
        </button>
      )}
      {blocked !== null && (
        <p id="continue-reason" className={styles.reason}>
          Cannot continue it: {blocked}
        </p>
      )}
      <p className={styles.reason} role="status">
        {copied}
      </p>
    </div>
  );
}

function Parameters({ task }: { task: Task }) {
  const p = task.parameters;
  return (
    <dl className={styles.facts} data-testid="parameters">
      <dt>Mode</dt>
      <dd>
        {modeLabel(p.mode)} <span className={styles.code}>generation_mode: {p.mode}</span>
      </dd>
      <dt>Prompt</dt>
      <dd className="prompt">{p.prompt}</dd>
      <dt>Negative prompt</dt>
      <dd className={p.negativePrompt ? "prompt" : "muted"}>{p.negativePrompt ?? "None"}</dd>
      <dt>Seed</dt>
      <dd data-testid="seed">{p.seed ?? <span className="muted">None sent (the service picked one at random)</span>}</dd>
      <dt>Prompt rewriting</dt>
      <dd>
        {p.promptExtend ? "On: the service may rewrite the prompt" : "Off: the prompt was used as written"} <span className={styles.code}>prompt_extend: {String(p.promptExtend)}</span>
      </dd>
      <dt>Quality</dt>
      <dd>{p.quality}</dd>
      <dt>Duration</dt>
      <dd>
        {p.duration} s{p.mode === "video_continuation" ? " in all, the clip included" : ""}
      </dd>
      <dt>Driving audio</dt>
      <dd>{p.audio ? "Yes (below)" : "None"}</dd>
    </dl>
  );
}

const FIELD_LABEL: Record<InputView["field"], string> = {
  image_start: "First frame",
  image_end: "Last frame",
  video_urls: "Clip to continue",
  audio_urls: "Driving audio",
};

function Inputs({ inputs }: { inputs: InputView[] }) {
  if (inputs.length === 0) return <p className="muted">None.</p>;
  const external = inputs.some((i) => !i.uploaded);
  return (
    <>
      <ul className={styles.inputs}>
        {inputs.map((input) => (
          <li key={`${input.field}-${input.url}`} className={styles.input} data-testid={`input-${input.field}`}>
            <strong>{FIELD_LABEL[input.field]}</strong>
            <InputPreview input={input} label={FIELD_LABEL[input.field]} />
          </li>
        ))}
      </ul>
      {external && (
        <p className="muted small">
          Files on other sites are shown as links, not previews: opening this page does not contact other sites, and their links may have expired.
        </p>
      )}
    </>
  );
}

function InputPreview({ input, label }: { input: InputView; label: string }) {
  if (input.deletedAt) return <p className="muted">Uploaded; deleted from the portal&apos;s storage on {when(input.deletedAt)}.</p>;
  if (!input.previewUrl) {
    const host = URL.canParse(input.url) ? new URL(input.url).host : input.url;
    return (
      <p>
        <a href={input.url} target="_blank" rel="noopener noreferrer">
          Open the file on {host}
        </a>
        <br />
        <span className={styles.code}>{input.url}</span>
      </p>
    );
  }
  const src = input.previewUrl;
  return (
    <>
      {input.kind === "image" && (
        // Same-origin upload links (tokened): a plain <img> keeps to the CSP; next/image would proxy it.
        // eslint-disable-next-line @next/next/no-img-element
        <img className={styles.preview} src={src} alt={`${label} (uploaded image)`} />
      )}
      {input.kind === "clip" && <video className={styles.preview} src={src} controls muted playsInline preload="metadata" aria-label={`${label} (uploaded clip)`} />}
      {input.kind === "audio" && <audio className={styles.audio} src={src} controls preload="metadata" aria-label={`${label} (uploaded audio)`} />}
      <span className="muted small">Uploaded to the portal</span>
    </>
  );
}

/** The timeline: polled while the task is live, and read again whenever the task's state changes (its last events too). */
function Timeline({ id, live, version }: { id: string; live: boolean; version: string }) {
  const trpc = useTRPC();
  const { data, refetch } = useQuery(trpc.tasks.timeline.queryOptions({ id }, { refetchInterval: live ? 3000 : false }));
  useEffect(() => {
    void refetch();
  }, [version, refetch]);
  return (
    <section className={styles.section} aria-labelledby="timeline-heading">
      <h2 id="timeline-heading">Timeline</h2>
      {!data ? (
        <p className="muted">Loading…</p>
      ) : data.events.length === 0 ? (
        <p className="muted">No events were recorded for this task.</p>
      ) : (
        <ol className={styles.timeline} data-testid="timeline">
          {data.events.slice(0, data.gapAt).map((e) => (
            <TimelineItem key={e.id} e={e} />
          ))}
          {data.omitted > 0 && <li className="muted">… {data.omitted} more events (checks and callbacks) …</li>}
          {data.events.slice(data.gapAt).map((e) => (
            <TimelineItem key={e.id} e={e} />
          ))}
        </ol>
      )}
    </section>
  );
}

function TimelineItem({ e }: { e: { at: Date; kind: string; title: string; detail: string | null } }) {
  return (
    <li data-kind={e.kind}>
      <time dateTime={new Date(e.at).toISOString()}>{when(e.at)}</time>
      <strong>{e.title}</strong>
      {e.detail && <span className="muted"> · {e.detail}</span>}
    </li>
  );
}

function DeleteFiles({ task }: { task: Task }) {
  const trpc = useTRPC();
  const queryClient = useQueryClient();
  const [open, setOpen] = useState(false);
  const remove = useMutation(
    trpc.tasks.deleteFiles.mutationOptions({
      onSuccess: async () => {
        setOpen(false);
        await queryClient.invalidateQueries({ queryKey: trpc.tasks.get.queryKey({ id: task.id }) });
        await queryClient.invalidateQueries({ queryKey: trpc.tasks.timeline.queryKey({ id: task.id }) });
      },
    }),
  );
  const uploads = task.inputs.filter((i) => i.uploaded).length;
  const video = task.archiveStatus === "archived";
  const uploadWords = uploads === 1 ? "the file you uploaded for it" : `the ${uploads} files you uploaded for it`;
  const what = [video && "the video", uploads > 0 && uploadWords].filter(Boolean).join(" and ");
  return (
    <section className={styles.section} aria-labelledby="delete-heading">
      <h2 id="delete-heading">Delete files</h2>
      <p className="muted">Frees the portal&apos;s storage: removes {what}. The task stays in your history with its settings and cost.</p>
      <button type="button" className={`${styles.button} ${styles.danger}`} onClick={() => setOpen(true)}>
        {video ? (uploads > 0 ? "Delete video and uploads…" : "Delete video…") : "Delete uploads…"}
      </button>
      {!open && remove.error && <p className="error">{remove.error.message}</p>}
      <ConfirmDialog
        open={open}
        title="Delete this task's files?"
        confirmLabel="Delete files"
        cancelLabel="Keep them"
        busy={remove.isPending}
        error={remove.error?.message}
        onConfirm={() => remove.mutate({ id: task.id })}
        onClose={() => setOpen(false)}
      >
        <p>
          {what.charAt(0).toUpperCase() + what.slice(1)} {video && uploads === 0 ? "is" : "are"} removed from the portal&apos;s storage, and the links stop working. An
          upload another of your tasks still uses is kept. This cannot be undone.
        </p>
        <p>The task, its settings, its cost and its billing record stay.</p>
      </ConfirmDialog>
    </section>
  );
}

