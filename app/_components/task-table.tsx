import Link from "next/link";
import type { TaskView } from "@/server/tasks/tasks.ts";
import { when } from "./format.ts";
import { billedLabel, modeLabel, StatusBadge } from "./task-status.tsx";

/** A list of tasks (one's history; the admins' list of every task, with the owner). Stacks into cards on phones. */
export function TaskTable({ tasks, showOwner = false, testId }: { tasks: TaskView[]; showOwner?: boolean; testId?: string }) {
  return (
    <table className="history" data-testid={testId}>
      <thead>
        <tr>
          <th>Created</th>
          {showOwner && <th>Owner</th>}
          <th>Prompt</th>
          <th>Mode</th>
          <th>Status</th>
          <th>Billed</th>
          <th>Cost</th>
        </tr>
      </thead>
      <tbody>
        {tasks.map((t) => (
          <tr key={t.id} data-task-id={t.id}>
            <td data-label="Created">{when(t.createdAt)}</td>
            {showOwner && <td data-label="Owner">{t.owner.email}</td>}
            <td data-label="Prompt">
              <Link href={`/tasks/${t.id}`}>{t.prompt.length > 60 ? `${t.prompt.slice(0, 60)}…` : t.prompt}</Link>
            </td>
            <td data-label="Mode">{modeLabel(t.mode)}</td>
            <td data-label="Status">
              <StatusBadge status={t.status} />
            </td>
            <td data-label="Billed" data-testid="billed">
              {billedLabel(t)}
            </td>
            <td data-label="Cost" data-testid="cost">
              {t.cost === null ? "—" : `${t.cost.toFixed(3)} ${t.currency}`}
            </td>
          </tr>
        ))}
      </tbody>
    </table>
  );
}
