/**
 * Reading a request body with a size bound that holds before and while
 * reading: a declared Content-Length over the bound is refused without
 * reading anything, and a body without one (chunked) is counted as it
 * streams in and abandoned as soon as it passes the bound.
 */
import { AppError, DomainError } from "../errors.ts";
import { decodeStrictUtf8 } from "./text.ts";

export class BodyTooLargeError extends DomainError {
  static override readonly kind: string = "BodyTooLargeError";

  constructor(readonly maxBytes: number) {
    super(`The request is larger than ${maxBytes} bytes`);
  }
}

/** The body as a stream that errors with BodyTooLargeError past `maxBytes`; refuses a larger Content-Length at once. */
function boundedBody(req: Request, maxBytes: number): { stream: ReadableStream<Uint8Array> | null; tooLarge: () => boolean } {
  const declared = Number(req.headers.get("content-length"));
  if (Number.isFinite(declared) && declared > maxBytes) throw new BodyTooLargeError(maxBytes);
  let total = 0;
  const stream =
    req.body?.pipeThrough(
      new TransformStream<Uint8Array, Uint8Array>({
        transform(chunk, controller) {
          total += chunk.byteLength;
          if (total > maxBytes) controller.error(new BodyTooLargeError(maxBytes));
          else controller.enqueue(chunk);
        },
      }),
    ) ?? null;
  return { stream, tooLarge: () => total > maxBytes };
}

/** A multipart or urlencoded form, at most `maxBytes` long. Throws BodyTooLargeError, or AppError("BAD_REQUEST") when it is not a form. */
export async function readFormDataWithin(req: Request, maxBytes: number): Promise<FormData> {
  const contentType = req.headers.get("content-type") ?? "";
  const body = boundedBody(req, maxBytes);
  if (!body.stream || !/^(multipart\/form-data|application\/x-www-form-urlencoded)\b/i.test(contentType)) {
    throw new AppError("BAD_REQUEST", "Send the file as multipart/form-data");
  }
  try {
    // The platform's own multipart parser, fed through the counter.
    return await new Response(body.stream, { headers: { "Content-Type": contentType } }).formData();
  } catch (err) {
    if (body.tooLarge()) throw new BodyTooLargeError(maxBytes);
    throw new AppError("BAD_REQUEST", `The form could not be read: ${(err as Error).message}`);
  }
}

/**
 * The body as UTF-8 text, at most `maxBytes` long: throws BodyTooLargeError
 * past it, and AppError("BAD_REQUEST") for invalid UTF-8 or a NUL byte.
 */
export async function readTextWithin(req: Request, maxBytes: number): Promise<string> {
  // A body of a declared length within the bound (HTTP's framing holds it to that length): read at once,
  // without the counting stream (the common case: callbacks, tRPC, the /v1 API).
  const declared = req.headers.get("content-length");
  if (declared !== null && /^\d{1,15}$/.test(declared) && Number(declared) <= maxBytes && !req.headers.has("transfer-encoding")) {
    const bytes = new Uint8Array(await req.arrayBuffer());
    if (bytes.byteLength > maxBytes) throw new BodyTooLargeError(maxBytes);
    return decodeStrictUtf8(bytes);
  }
  const body = boundedBody(req, maxBytes);
  if (!body.stream) return "";
  let bytes: Uint8Array;
  try {
    bytes = new Uint8Array(await new Response(body.stream).arrayBuffer());
  } catch (err) {
    if (body.tooLarge()) throw new BodyTooLargeError(maxBytes);
    throw err;
  }
  return decodeStrictUtf8(bytes);
}
