"use client";
import { useEffect, useId, useRef, type ReactNode } from "react";
import styles from "./task-page.module.css";

/**
 * A modal confirmation (the browser's own <dialog>: focus kept inside, Escape
 * closes it). `open` shows it; `onClose` runs on "keep" and on Escape.
 */
export function ConfirmDialog(props: {
  open: boolean;
  title: string;
  children: ReactNode;
  confirmLabel: string;
  cancelLabel: string;
  busy?: boolean;
  error?: string | null;
  onConfirm: () => void;
  onClose: () => void;
}) {
  const ref = useRef<HTMLDialogElement>(null);
  const keep = useRef<HTMLButtonElement>(null);
  const titleId = useId();
  useEffect(() => {
    const dialog = ref.current;
    if (!dialog) return;
    if (props.open && !dialog.open) {
      dialog.showModal();
      // The safe choice has the focus: Enter does not destroy anything.
      keep.current?.focus();
    }
    if (!props.open && dialog.open) dialog.close();
  }, [props.open]);
  return (
    <dialog ref={ref} className={styles.dialog} aria-labelledby={titleId} onClose={props.onClose}>
      <h2 id={titleId}>{props.title}</h2>
      {props.children}
      {props.error && <p className="error">{props.error}</p>}
      <div className={styles.actions}>
        <button type="button" className={`${styles.button} ${styles.danger}`} onClick={props.onConfirm} disabled={props.busy}>
          {props.busy ? "Working…" : props.confirmLabel}
        </button>
        <button type="button" className={`${styles.button} ${styles.secondary}`} onClick={props.onClose} ref={keep}>
          {props.cancelLabel}
        </button>
      </div>
    </dialog>
  );
}
