import { requireUser } from "../guards.ts";
import { History } from "./history.tsx";

export const dynamic = "force-dynamic";

export default async function HistoryPage() {
  await requireUser();
  return (
    <>
      <h1>My history</h1>
      <History />
    </>
  );
}
