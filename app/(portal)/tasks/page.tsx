import { requireUser } from "../guards.ts";
import { MyUsage } from "@/app/_components/usage/my-usage.tsx";
import { History } from "./history.tsx";

export const dynamic = "force-dynamic";

export default async function HistoryPage() {
  await requireUser();
  return (
    <>
      <h1>My history</h1>
      <div className="stack">
        <MyUsage />
        <History />
      </div>
    </>
  );
}
