/**
 * The upload routes, whole, as server functions: app/api/uploads serves them
 * and the tests call them over HTTP. Errors go through the one HTTP error
 * path (server/http/errors.ts).
 */
import { AppError } from "../errors.ts";
import { BodyTooLargeError, readFormDataWithin } from "../http/body.ts";
import { routeHandler, type HttpHandler } from "../http/errors.ts";
import { requestedRange, storedObjectResponse } from "../http/range.ts";
import { formatBytes } from "../media/rules.ts";
import type { SessionUser } from "../users/users.ts";
import { uploadAvailability } from "./availability.ts";
import { MAX_UPLOAD_REQUEST_BYTES, openUpload, saveUpload, uploadInputOf, type UploadDeps } from "./uploads.ts";

export interface UploadRouteDeps extends UploadDeps {
  /** The http origins media links may use (config.ts `httpMediaOrigins(config).request`). */
  httpOrigins: string[];
  /** The signed-in person of the request, or null. */
  currentUser: () => Promise<SessionUser | null>;
}

/** POST /api/uploads (multipart: `field`, `file`): answers `{ url, facts }` (what the media check measured, for the form to show). */
export function uploadRoute(deps: () => Promise<UploadRouteDeps> | UploadRouteDeps): HttpHandler {
  return routeHandler("upload", async (req: Request) => {
    const d = await deps();
    const user = await d.currentUser();
    if (!user) throw new AppError("UNAUTHORIZED", "Sign in to upload files");
    // A link the provider could not fetch would only fail later, after the form is sent.
    const availability = uploadAvailability({ publicBaseUrl: d.publicBaseUrl, httpOrigins: d.httpOrigins });
    if (!availability.enabled) throw new AppError("BAD_REQUEST", availability.reason);
    let form: FormData;
    try {
      form = await readFormDataWithin(req, MAX_UPLOAD_REQUEST_BYTES);
    } catch (err) {
      if (!(err instanceof BodyTooLargeError)) throw err;
      throw new AppError("PAYLOAD_TOO_LARGE", `The file is larger than ${formatBytes(MAX_UPLOAD_REQUEST_BYTES)}, more than any media field accepts.`);
    }
    const saved = await saveUpload(d, user, await uploadInputOf(form));
    return Response.json({ url: saved.url, facts: saved.facts });
  });
}

/** GET /api/uploads/<name>?token=…: the file, with Range support, for whoever holds the link. */
export function uploadedFileRoute(deps: () => Pick<UploadDeps, "storage" | "serverSecret">): (req: Request, name: string) => Promise<Response> {
  return routeHandler("uploaded file", async (req: Request, name: string) => {
    const file = await openUpload(deps(), name, new URL(req.url).searchParams.get("token"), requestedRange(req));
    // Never sniffed as anything but the media type it was checked to be.
    return storedObjectResponse(file, { "Cache-Control": "private, max-age=3600", "X-Content-Type-Options": "nosniff" });
  });
}
