"use client";
/**
 * Tells a person, wherever they are in the portal, that one of their tasks
 * ended: a notice at the top of the page, the count in the tab's title, and
 * a browser notification when they allowed them. One small query
 * (`tasks.activity`: their running tasks and those ended since the last
 * look), every few seconds while something runs and rarely otherwise, at
 * once on each navigation; it keeps going in a background tab, where the
 * title and the notification matter most.
 */
import Link from "next/link";
import { usePathname, useRouter } from "next/navigation";
import { useCallback, useEffect, useRef, useState } from "react";
import { useTRPCClient } from "./trpc.ts";
import styles from "./task-notifier.module.css";

const WHILE_RUNNING_MS = 5_000;
const IDLE_MS = 30_000;
/** Tasks ended this long before the last look are asked for again (the web and worker clocks may differ a little). */
const OVERLAP_MS = 5_000;
const MAX_NOTICES = 5;
const TITLE_PREFIX = /^\(\d+\) (?:Video ready|Task failed|Tasks ended) · /;

interface Notice {
  id: string;
  status: "completed" | "failed";
  prompt: string;
}

export function TaskNotifier() {
  const client = useTRPCClient();
  const router = useRouter();
  const pathname = usePathname();
  const [notices, setNotices] = useState<Notice[]>([]);
  const since = useRef<Date | undefined>(undefined);
  const floor = useRef<Date | undefined>(undefined);
  const told = useRef(new Set<string>());
  const running = useRef(0);
  const path = useRef(pathname);
  path.current = pathname;

  const look = useCallback(async () => {
    const res = await client.tasks.activity.query(since.current ? { since: since.current } : undefined);
    const now = new Date(res.now);
    // Only what ends after the page opened: the first look sets the floor.
    floor.current ??= now;
    const next = new Date(now.getTime() - OVERLAP_MS);
    since.current = next > floor.current ? next : floor.current;
    running.current = res.tasks.filter((t) => t.completedAt === null).length;
    const ended = res.tasks.filter((t): t is typeof t & { status: Notice["status"] } => t.completedAt !== null && (t.status === "completed" || t.status === "failed") && !told.current.has(t.id));
    if (ended.length === 0) return;
    for (const t of ended) told.current.add(t.id);
    const hidden = document.visibilityState === "hidden";
    const fresh: Notice[] = [];
    for (const t of ended) {
      const here = path.current === `/tasks/${t.id}`;
      if (!here) fresh.push({ id: t.id, status: t.status, prompt: t.prompt });
      if (!here || hidden) notifyBrowser(t, () => router.push(`/tasks/${t.id}`));
    }
    if (fresh.length > 0) setNotices((n) => [...fresh, ...n].slice(0, MAX_NOTICES));
  }, [client, router]);

  // The polling loop; a navigation looks at once (a task just submitted, a page just left).
  useEffect(() => {
    let stopped = false;
    let timer: ReturnType<typeof setTimeout> | undefined;
    const loop = async () => {
      try {
        await look();
      } catch {
        // A failed look is retried on the next turn; a signed-out session is handled by the pages.
      }
      if (!stopped) timer = setTimeout(loop, running.current > 0 ? WHILE_RUNNING_MS : IDLE_MS);
    };
    void loop();
    return () => {
      stopped = true;
      clearTimeout(timer);
    };
  }, [look, pathname]);

  // Opening an ended task's page settles its notice.
  useEffect(() => {
    setNotices((n) => (n.some((x) => pathname === `/tasks/${x.id}`) ? n.filter((x) => pathname !== `/tasks/${x.id}`) : n));
  }, [pathname]);

  // The tab's title carries the count, whatever title the page sets.
  const count = notices.length;
  const label = count === 1 ? (notices[0]?.status === "completed" ? "Video ready" : "Task failed") : "Tasks ended";
  useEffect(() => {
    const apply = () => {
      const base = document.title.replace(TITLE_PREFIX, "");
      const wanted = count > 0 ? `(${count}) ${label} · ${base}` : base;
      if (document.title !== wanted) document.title = wanted;
    };
    apply();
    const observer = new MutationObserver(apply);
    observer.observe(document.head, { childList: true, subtree: true, characterData: true });
    return () => {
      observer.disconnect();
      document.title = document.title.replace(TITLE_PREFIX, "");
    };
  }, [count, label]);

  const dismiss = (id: string) => setNotices((n) => n.filter((x) => x.id !== id));
  return (
    <div className={styles.notices} role="status" aria-live="polite" data-testid="task-notices">
      {notices.map((n) => (
        <div key={n.id} className={`${styles.notice} ${n.status === "failed" ? styles.failed : ""}`} data-testid="task-notice" data-ended={n.status}>
          <span className={styles.text}>
            {n.status === "completed" ? "Your video is ready: " : "Your task failed: "}
            <Link href={`/tasks/${n.id}`}>{n.prompt || "(no prompt)"}</Link>
            {n.status === "failed" ? " (open it to see why)" : ""}
          </span>
          <button type="button" className={styles.dismiss} onClick={() => dismiss(n.id)} aria-label={`Dismiss the notice about “${n.prompt}”`}>
            Dismiss
          </button>
        </div>
      ))}
    </div>
  );
}

/** A browser notification, when the person allowed them. */
function notifyBrowser(task: { id: string; status: string; prompt: string }, open: () => void): void {
  if (typeof Notification === "undefined" || Notification.permission !== "granted") return;
  try {
    const n = new Notification(task.status === "completed" ? "Your video is ready" : "Your video task failed", { body: task.prompt, tag: `task-${task.id}` });
    n.onclick = () => {
      window.focus();
      open();
      n.close();
    };
  } catch {
    // Some browsers only notify from a service worker; the notice and the title still tell.
  }
}
