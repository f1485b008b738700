import { currentUser } from "@/server/auth/current-user.ts";
import { httpMediaOrigins } from "@/server/config.ts";
import { getServices } from "@/server/app-services.ts";
import { uploadRoute } from "@/server/uploads/routes.ts";

export const dynamic = "force-dynamic";

/** Uploads one media file for the new task form (see server/uploads/routes.ts). */
export const POST = uploadRoute(() => {
  const { storage, config } = getServices();
  return {
    storage,
    serverSecret: config.authSecret,
    publicBaseUrl: config.publicBaseUrl,
    httpOrigins: httpMediaOrigins(config).request,
    currentUser,
  };
});
