import { History } from "./history.tsx";

export const dynamic = "force-dynamic";

export default function HistoryPage() {
  return (
    <>
      <h1>My history</h1>
      <History />
    </>
  );
}
