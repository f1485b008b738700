import { httpMediaOrigins } from "@/server/config.ts";
import { getServices } from "@/server/app-services.ts";
import { uploadAvailability } from "@/server/uploads/availability.ts";
import { requireUser } from "../../guards.ts";
import { NewTaskForm } from "./new-task-form.tsx";
import type { Metadata } from "next";

export const metadata: Metadata = { title: "New video" };

export const dynamic = "force-dynamic";

export default async function NewTaskPage() {
  await requireUser();
  const { config } = getServices();
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
        httpOrigins={httpOrigins}
        sampleImageUrl={simulator ? `${config.provider.baseUrl}/samples/first-frame.png` : undefined}
        sampleClipUrl={simulator ? `${config.provider.baseUrl}/files/sample.mp4` : undefined}
        prices={config.prices}
        uploads={uploadAvailability({ publicBaseUrl: config.publicBaseUrl, httpOrigins })}
      />
    </>
  );
}
