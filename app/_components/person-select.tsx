"use client";
import { useQuery } from "@tanstack/react-query";
import { useTRPC } from "./trpc.ts";

/** A choice of one person of the team (admins' pages): by name and email, with an empty first choice. */
export function PersonSelect({
  id,
  value,
  onChange,
  empty,
  activeOnly = false,
}: {
  id: string;
  value: string;
  onChange: (userId: string) => void;
  /** The label of the empty choice ("Everyone", "Choose…"). */
  empty: string;
  /** Leave out deactivated people. */
  activeOnly?: boolean;
}) {
  const trpc = useTRPC();
  const people = useQuery(trpc.team.members.queryOptions());
  return (
    <select id={id} value={value} onChange={(e) => onChange(e.target.value)}>
      <option value="">{empty}</option>
      {people.data?.members
        .filter((m) => !activeOnly || m.status === "active")
        .map((m) => (
          <option key={m.id} value={m.id}>
            {m.name ? `${m.name} (${m.email})` : m.email}
          </option>
        ))}
    </select>
  );
}
