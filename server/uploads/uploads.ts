/**
 * Files people upload for a media field (first or last frame, the clip to
 * continue, the driving audio). Each is checked with the media rules on its
 * bytes before anything is stored, kept under `uploads/<uuid>.<ext>` (the
 * extension from the detected type, never from the file's name), and handed
 * back as a link the provider can fetch without a session: the link's token
 * (token.ts) is the authorisation, so no database row is needed.
 */
import { randomUUID } from "node:crypto";
import { AppError } from "../errors.ts";
import { checkMediaBytes, MEDIA_KIND_OF, summarizeFieldErrors, type MediaFacts } from "../media/check.ts";
import { largestMediaBytes, MEDIA_RULES, type MediaRules } from "../media/rules.ts";
import type { ByteRange, ObjectStorage, StoredObject } from "../storage/storage.ts";
import { MATERIALS, type MaterialName } from "../generation/request-schema.ts";
import type { SessionUser } from "../users/users.ts";
import { isValidUploadToken, uploadToken } from "./token.ts";

export interface UploadDeps {
  storage: ObjectStorage;
  serverSecret: string;
  /** Where the provider reaches the portal (config.publicBaseUrl). */
  publicBaseUrl: string;
  /** The limits; MEDIA_RULES unless a test sets smaller ones. */
  rules?: MediaRules;
}

export interface UploadInput {
  field: MaterialName;
  /** The name on the person's computer: for messages only. */
  filename: string;
  /** What the browser claims; not trusted: the stored type is the one detected from the bytes. */
  contentType?: string;
  bytes: Uint8Array;
}

/**
 * The most a POST /api/uploads body may hold: the largest file any media
 * field accepts, plus room for the multipart framing and the `field` part.
 */
export const MAX_UPLOAD_REQUEST_BYTES = largestMediaBytes() + 64 * 1024;

/** Extension -> Content-Type of every type an upload can be stored as. */
const CONTENT_TYPES = {
  png: "image/png",
  jpg: "image/jpeg",
  webp: "image/webp",
  bmp: "image/bmp",
  mp4: "video/mp4",
  wav: "audio/wav",
  mp3: "audio/mpeg",
} as const;
type UploadExtension = keyof typeof CONTENT_TYPES;
const IMAGE_EXTENSIONS: readonly UploadExtension[] = ["png", "jpg", "webp", "bmp"];

const UPLOAD_NAME = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}\.(png|jpg|webp|bmp|mp4|wav|mp3)$/;

const WHAT: Record<MediaFacts["kind"], string> = {
  image: "an image we can read; choose a PNG, JPEG, WebP or BMP file",
  clip: "an MP4 video we can read; export the clip as MP4 (H.264) and try again",
  audio: "an audio file we can read; choose a WAV or MP3 file",
};

function refuse(field: MaterialName, messages: string[]): never {
  const fieldErrors = { [field]: messages };
  throw new AppError("BAD_REQUEST", summarizeFieldErrors(fieldErrors), fieldErrors);
}

/** The extension a file that passed the rules is stored under; undefined for a type we do not serve. */
function extensionOf(facts: MediaFacts): UploadExtension | undefined {
  if (facts.kind === "clip") return "mp4";
  if (facts.kind === "audio") return facts.format === "mp3" || facts.format === "wav" ? facts.format : undefined;
  const type = facts.type as UploadExtension;
  return IMAGE_EXTENSIONS.includes(type) ? type : undefined;
}

function uploadUrl(deps: Pick<UploadDeps, "serverSecret" | "publicBaseUrl">, name: string): string {
  const url = new URL(`${deps.publicBaseUrl.replace(/\/+$/, "")}/api/uploads/${name}`);
  url.searchParams.set("token", uploadToken(deps.serverSecret, `uploads/${name}`));
  return url.toString();
}

/**
 * Checks the file against `input.field`'s media rules and stores it. Throws
 * AppError("BAD_REQUEST") with the reason under the field's name when the
 * file is too large or breaks a rule. `user` is whoever uploads (the route
 * requires a signed-in person); it is not recorded.
 */
export async function saveUpload(
  deps: UploadDeps,
  _user: SessionUser,
  input: UploadInput,
): Promise<{ url: string; facts: MediaFacts }> {
  const { field, bytes } = input;
  const rules = deps.rules ?? MEDIA_RULES;
  const kind = MEDIA_KIND_OF[field];
  const filename = input.filename || "This file";
  if (bytes.length === 0) refuse(field, [`${filename} is empty; choose the ${kind} file itself`]);
  // checkMediaBytes refuses a file over the field's limit before probing it, and words the message.
  const tooLarge = bytes.length > rules[kind].maxBytes;
  const { errors, facts } = await checkMediaBytes(field, bytes, rules);
  if (errors.length > 0 || !facts) {
    // It speaks of URLs when it cannot read a file at all; say it for a file.
    refuse(field, !facts && !tooLarge ? [`${filename} is not ${WHAT[kind]}`] : errors);
  }
  const url = await storeCheckedUpload(deps, facts, bytes);
  if (!url) refuse(field, [`${filename} is not ${WHAT[kind]}`]);
  return { url, facts };
}

/**
 * Stores bytes that passed the media rules (`facts` is what was read of
 * them) as an upload, and returns its link; null for a type uploads are not
 * served as. `id` (a UUID) names it: random for a person's upload; derived
 * from the task for a result taken as a clip to continue (server/tasks/drafts.ts),
 * so that one result is copied once however often it is continued.
 */
export async function storeCheckedUpload(deps: UploadDeps, facts: MediaFacts, bytes: Uint8Array, id: string = randomUUID()): Promise<string | null> {
  const ext = extensionOf(facts);
  if (!ext) return null;
  const name = `${id}.${ext}`;
  if (!UPLOAD_NAME.test(name)) throw new Error(`Not an upload name: ${name}`);
  const key = `uploads/${name}`;
  // The same id holds the same bytes: already stored means nothing to write.
  if ((await deps.storage.size(key)) !== bytes.length) await deps.storage.put(key, bytes, CONTENT_TYPES[ext]);
  return uploadUrl(deps, name);
}

/**
 * An uploaded file, for whoever holds its link (the provider, the portal's
 * own media check). `name` is the link's last path segment (`<uuid>.<ext>`).
 * Anything else (an unknown name, a missing or wrong token) is NOT_FOUND,
 * so a probe learns nothing about which files exist. A file its owner
 * deleted (with their task's files) is GONE, said so to the link's holder only.
 */
export async function openUpload(
  deps: Pick<UploadDeps, "storage" | "serverSecret">,
  name: string,
  token: string | null | undefined,
  range?: ByteRange,
): Promise<StoredObject> {
  const match = UPLOAD_NAME.exec(name);
  const key = `uploads/${name}`;
  if (!match || !isValidUploadToken(deps.serverSecret, key, token)) throw new AppError("NOT_FOUND", "No such file");
  const object = await deps.storage.get(key, range);
  if (!object) {
    const deleted = await uploadDeletion(deps.storage, key);
    if (deleted) {
      const day = deleted.at.toISOString().slice(0, 10);
      throw new AppError(
        "GONE",
        deleted.reason === "retention"
          ? `This file was deleted from the portal's storage on ${day}, after the number of days the portal keeps files.`
          : `This file was deleted from the portal's storage on ${day} by the person who uploaded it.`,
      );
    }
    throw new AppError("NOT_FOUND", "No such file");
  }
  // Local storage knows no types; the extension was chosen from the detected type.
  return { ...object, contentType: CONTENT_TYPES[match[1] as UploadExtension] };
}

/** An upload link of this portal, as found in a stored request. */
export interface UploadLink {
  /** Its storage key, `uploads/<uuid>.<ext>`. */
  key: string;
  /** `<uuid>.<ext>`. */
  name: string;
  kind: MediaFacts["kind"];
  /** Path and query (with the token), for the portal's own pages: same origin whatever the address they use. */
  localPath: string;
}

const KIND_OF_EXTENSION: Record<UploadExtension, MediaFacts["kind"]> = { png: "image", jpg: "image", webp: "image", bmp: "image", mp4: "clip", wav: "audio", mp3: "audio" };

/**
 * The upload behind `url` when it is one of this portal's upload links with a
 * valid token (the token proves the portal made it, whatever host the link
 * names); null for anything else.
 */
export function uploadLinkOf(serverSecret: string, url: string): UploadLink | null {
  if (!URL.canParse(url)) return null;
  const u = new URL(url);
  const m = /^\/api\/uploads\/([^/]+)$/.exec(u.pathname);
  const name = m?.[1];
  const ext = name ? UPLOAD_NAME.exec(name)?.[1] : undefined;
  if (!name || !ext) return null;
  const key = `uploads/${name}`;
  const token = u.searchParams.get("token");
  if (!isValidUploadToken(serverSecret, key, token)) return null;
  return { key, name, kind: KIND_OF_EXTENSION[ext as UploadExtension], localPath: `/api/uploads/${name}?token=${encodeURIComponent(token ?? "")}` };
}

/** Where the note that an upload was deleted is kept: beside the uploads, in the same storage (no table, as decision 6). */
const tombstoneKey = (key: string) => `deleted/${key}.json`;

/** Why an upload was deleted: with its task's files by their owner (or by result retention), or by upload retention. */
export type UploadDeletionReason = "owner" | "retention";

/**
 * Deletes an upload, leaving a note of when and why, so its link can say the
 * file was deleted rather than never existed.
 */
export async function deleteUpload(storage: ObjectStorage, key: string, at: Date, reason: UploadDeletionReason = "owner"): Promise<void> {
  await storage.put(tombstoneKey(key), new TextEncoder().encode(JSON.stringify({ deletedAt: at.toISOString(), reason })), "application/json");
  await storage.delete(key);
}

/** When and why an upload was deleted, or null when it was not (or the note cannot be read). */
export async function uploadDeletion(storage: ObjectStorage, key: string): Promise<{ at: Date; reason: UploadDeletionReason } | null> {
  const note = await storage.get(tombstoneKey(key)).catch(() => null);
  if (!note) return null;
  try {
    const { deletedAt, reason } = JSON.parse(await new Response(note.body).text()) as { deletedAt?: unknown; reason?: unknown };
    const at = typeof deletedAt === "string" ? new Date(deletedAt) : null;
    if (!at || Number.isNaN(at.getTime())) return null;
    return { at, reason: reason === "retention" ? "retention" : "owner" };
  } catch {
    return null;
  }
}

/** When an upload was deleted, or null when it was not (or the note cannot be read). */
export async function uploadDeletedAt(storage: ObjectStorage, key: string): Promise<Date | null> {
  return (await uploadDeletion(storage, key))?.at ?? null;
}

/** The upload behind a storage key `uploads/<uuid>.<ext>`, or null for any other key. */
export function uploadOfKey(key: string): { key: string; name: string } | null {
  const name = key.startsWith("uploads/") ? key.slice("uploads/".length) : "";
  return UPLOAD_NAME.test(name) ? { key, name } : null;
}

/** The POST /api/uploads form (`field`, `file`) as saveUpload's input. */
export async function uploadInputOf(form: FormData): Promise<UploadInput> {
  const field = form.get("field");
  const file = form.get("file");
  if (typeof field !== "string" || !(MATERIALS as readonly string[]).includes(field)) {
    throw new AppError("BAD_REQUEST", `field must be one of ${MATERIALS.join(", ")}`);
  }
  if (!(file instanceof File)) {
    throw new AppError("BAD_REQUEST", "Choose a file to upload", { [field]: ["Choose a file to upload"] });
  }
  return {
    field: field as MaterialName,
    filename: file.name,
    ...(file.type && { contentType: file.type }),
    bytes: new Uint8Array(await file.arrayBuffer()),
  };
}
