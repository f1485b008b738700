import { httpMediaOrigins } from "@/server/config.ts";
import { getServices } from "@/server/app-services.ts";
import { uploadAvailability } from "@/server/uploads/availability.ts";
import { requireUser } from "../../guards.ts";
import { NewTaskForm } from "./new-task-form.tsx";
import type { Metadata } from "next";

export const metadata: Metadata = { title: "New video" };

export const dynamic = "force-dynamic";

type SearchParams = Promise<Record<string, string | string[] | undefined>>;

/** One task id from the query (?again=<id> or ?continue=<id>); the form asks tasks.draftFrom, which checks who may. */
function taskParam(value: string | string[] | undefined): string | undefined {
  const id = Array.isArray(value) ? value[0] : value;
  return id && id.length <= 100 ? id : undefined;
}

export default async function NewTaskPage({ searchParams }: { searchParams: SearchParams }) {
  const user = await requireUser();
  const { config } = getServices();
  const params = await searchParams;
  const again = taskParam(params.again);
  const next = taskParam(params.continue);
  const prefill = next ? ({ kind: "continue", taskId: next } as const) : again ? ({ kind: "again", taskId: again } as const) : undefined;
  const simulator = config.provider.simulator;
  const httpOrigins = httpMediaOrigins(config).request;
  return (
    <>
      <h1>New video</h1>
      {simulator && (
        <p className="notice">
          Running against the local simulator: no credit is spent, and every task returns the same sample video.
        </p>
      )}
      <NewTaskForm
        // A new prefill is a new form.
        key={prefill ? `${prefill.kind}:${prefill.taskId}` : "new"}
        userId={user.id}
        prefill={prefill}
        httpOrigins={httpOrigins}
        sampleImageUrl={simulator ? `${config.provider.baseUrl}/samples/first-frame.png` : undefined}
        sampleClipUrl={simulator ? `${config.provider.baseUrl}/files/sample.mp4` : undefined}
        prices={config.prices}
        uploads={uploadAvailability({ publicBaseUrl: config.publicBaseUrl, httpOrigins })}
      />
    </>
  );
}
