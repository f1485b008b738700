import { currentUser } from "@/server/auth/current-user.ts";
import { httpMediaOrigins } from "@/server/config.ts";
import { AppError, httpStatusOf } from "@/server/errors.ts";
import { BodyTooLargeError, readFormDataWithin } from "@/server/http/body.ts";
import { formatBytes } from "@/server/media/rules.ts";
import { getServices } from "@/server/services.ts";
import { uploadAvailability } from "@/server/uploads/availability.ts";
import { MAX_UPLOAD_REQUEST_BYTES, saveUpload, uploadInputOf } from "@/server/uploads/uploads.ts";

export const dynamic = "force-dynamic";

/**
 * Uploads one media file for the new task form (multipart: `field`, `file`).
 * Answers `{ url }`, or `{ error, fieldErrors }` with 400, 401 or 413.
 */
export async function POST(req: Request) {
  const services = getServices();
  const { config } = services;
  const user = await currentUser(services);
  if (!user) return Response.json({ error: "Sign in to upload files", fieldErrors: {} }, { status: 401 });
  // A link the provider could not fetch would only fail later, after the form is sent.
  const availability = uploadAvailability({ publicBaseUrl: config.publicBaseUrl, httpOrigins: httpMediaOrigins(config).request });
  if (!availability.enabled) return Response.json({ error: availability.reason, fieldErrors: {} }, { status: 400 });
  try {
    const form = await readFormDataWithin(req, MAX_UPLOAD_REQUEST_BYTES);
    const saved = await saveUpload(
      { storage: services.storage, serverSecret: config.authSecret, publicBaseUrl: config.publicBaseUrl },
      user,
      await uploadInputOf(form),
    );
    return Response.json({ url: saved.url });
  } catch (err) {
    if (err instanceof BodyTooLargeError) {
      const error = `The file is larger than ${formatBytes(MAX_UPLOAD_REQUEST_BYTES)}, more than any media field accepts.`;
      return Response.json({ error, fieldErrors: {} }, { status: 413 });
    }
    if (err instanceof AppError) return Response.json({ error: err.message, fieldErrors: err.fieldErrors ?? {} }, { status: httpStatusOf[err.code] });
    throw err;
  }
}
