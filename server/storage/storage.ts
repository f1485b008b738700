/**
 * Where the portal keeps its copies of result videos: a local folder by
 * default, an S3-compatible bucket when configured. Keys are opaque paths
 * such as `results/<taskId>.mp4`.
 */
import { createReadStream, createWriteStream } from "node:fs";
import { mkdir, readdir, rename, rm, stat } from "node:fs/promises";
import path from "node:path";
import { Readable } from "node:stream";
import { pipeline } from "node:stream/promises";
import { DeleteObjectCommand, GetObjectCommand, HeadObjectCommand, ListObjectsV2Command, PutObjectCommand, S3Client } from "@aws-sdk/client-s3";
import type { Config } from "../config.ts";
import { DomainError } from "../errors.ts";

/** Inclusive byte range, as in HTTP; no `end` means "to the end of the file". */
export interface ByteRange {
  start: number;
  end?: number;
}

/** A range that starts past the end of a `size`-byte object cannot be served (RFC 9110 §14.1.1). */
export function isSatisfiable(range: ByteRange | undefined, size: number): boolean {
  return range === undefined || range.start < size;
}

/**
 * A range that cannot be served (HTTP 416): thrown by storage asked for one
 * that starts past the end of its object (`size` known), and for a Range
 * header the portal does not serve.
 */
export class RangeNotSatisfiableError extends DomainError {
  static override readonly kind: string = "RangeNotSatisfiableError";

  constructor(readonly size?: number) {
    super(size === undefined ? "The range cannot be served" : `The range starts past the end of the file (${size} bytes)`);
  }
}

export interface StoredObject {
  /** The bytes asked for (the whole object, or the range). */
  body: ReadableStream<Uint8Array>;
  size: number;
  contentType: string;
  range?: { start: number; end: number };
}

export interface ObjectStorage {
  put(key: string, body: ReadableStream<Uint8Array> | Uint8Array, contentType: string): Promise<{ size: number }>;
  /**
   * null when there is no such object. `range` is inclusive, as in HTTP; one
   * that starts past the end throws RangeNotSatisfiableError (HTTP 416).
   */
  get(key: string, range?: ByteRange): Promise<StoredObject | null>;
  size(key: string): Promise<number | null>;
  /** Removes the object; nothing happens when there is none (safe to repeat). */
  delete(key: string): Promise<void>;
  /**
   * The objects directly under a folder-like `prefix` (ending in "/"), page by
   * page, in no particular order (retention walks `uploads/` with it).
   */
  list(prefix: string): AsyncIterable<ListedObject>;
  /**
   * Removes half-written objects older than `before` (a local write cut by a
   * killed process leaves its temporary file); returns how many. Stores whose
   * writes are atomic have none.
   */
  sweepPartialWrites?(prefix: string, before: Date): Promise<number>;
}

export interface ListedObject {
  key: string;
  size: number;
  /** When it was last written. */
  modifiedAt: Date;
}

/** The inclusive bytes to read of a `size`-byte object (all of it without a range). */
function bytesToRead(range: ByteRange | undefined, size: number): { start: number; end: number } {
  if (!isSatisfiable(range, size)) throw new RangeNotSatisfiableError(size);
  return { start: range?.start ?? 0, end: Math.min(range?.end ?? size - 1, size - 1) };
}

function folderPrefix(prefix: string): string {
  if (!prefix.endsWith("/")) throw new Error(`Not a folder prefix: ${prefix}`);
  safeKey(prefix.slice(0, -1));
  return prefix;
}

function safeKey(key: string): string {
  if (!/^[a-zA-Z0-9][a-zA-Z0-9/_.-]*$/.test(key) || key.includes("..")) throw new Error(`Invalid storage key: ${key}`);
  return key;
}

export function createLocalStorage(dir: string): ObjectStorage {
  const root = path.resolve(dir);
  const fileOf = (key: string) => path.join(root, safeKey(key));
  return {
    async put(key, body, _contentType) {
      const file = fileOf(key);
      await mkdir(path.dirname(file), { recursive: true });
      // Write to a temporary name, then rename: a half-written file is never served.
      const tmp = `${file}.${process.pid}.${Date.now()}.part`;
      try {
        const source = body instanceof Uint8Array ? Readable.from([body]) : Readable.fromWeb(body as import("node:stream/web").ReadableStream);
        await pipeline(source, createWriteStream(tmp));
        await rename(tmp, file);
      } catch (err) {
        await rm(tmp, { force: true });
        throw err;
      }
      return { size: (await stat(file)).size };
    },
    async get(key, range) {
      const file = fileOf(key);
      const size = await this.size(key);
      if (size === null) return null;
      const { start, end } = bytesToRead(range, size);
      const stream = createReadStream(file, { start, end });
      return {
        body: Readable.toWeb(stream) as ReadableStream<Uint8Array>,
        size,
        contentType: key.endsWith(".mp4") ? "video/mp4" : "application/octet-stream",
        range: range ? { start, end } : undefined,
      };
    },
    async size(key) {
      try {
        return (await stat(fileOf(key))).size;
      } catch {
        return null;
      }
    },
    async delete(key) {
      await rm(fileOf(key), { force: true });
    },
    async *list(prefix) {
      const dir = path.join(root, folderPrefix(prefix));
      let names: string[];
      try {
        names = await readdir(dir);
      } catch {
        return;
      }
      for (const name of names) {
        // Files being written (put's temporary names) are not objects yet.
        if (name.endsWith(".part")) continue;
        const info = await stat(path.join(dir, name)).catch(() => null);
        if (info?.isFile()) yield { key: `${prefix}${name}`, size: info.size, modifiedAt: info.mtime };
      }
    },
    async sweepPartialWrites(prefix, before) {
      const dir = path.join(root, folderPrefix(prefix));
      const names = await readdir(dir).catch(() => [] as string[]);
      let removed = 0;
      for (const name of names.filter((n) => n.endsWith(".part"))) {
        const file = path.join(dir, name);
        const info = await stat(file).catch(() => null);
        // Only old ones: a recent one may be a write still going on.
        if (info?.isFile() && info.mtime < before) {
          await rm(file, { force: true });
          removed += 1;
        }
      }
      return removed;
    },
  };
}

export function createS3Storage(opts: Extract<Config["storage"], { kind: "s3" }>): ObjectStorage {
  const client = new S3Client({
    region: opts.region,
    endpoint: opts.endpoint,
    forcePathStyle: opts.forcePathStyle,
    credentials: opts.accessKeyId && opts.secretAccessKey ? { accessKeyId: opts.accessKeyId, secretAccessKey: opts.secretAccessKey } : undefined,
  });
  return {
    async put(key, body, contentType) {
      // Results are at most a few hundred MB; buffering keeps the upload a single, retryable PUT.
      const bytes = body instanceof Uint8Array ? body : new Uint8Array(await new Response(body).arrayBuffer());
      await client.send(new PutObjectCommand({ Bucket: opts.bucket, Key: safeKey(key), Body: bytes, ContentType: contentType }));
      return { size: bytes.byteLength };
    },
    async get(key, range) {
      const size = await this.size(key);
      if (size === null) return null;
      const { start, end } = bytesToRead(range, size);
      const res = await client.send(
        new GetObjectCommand({ Bucket: opts.bucket, Key: safeKey(key), Range: range ? `bytes=${start}-${end}` : undefined }),
      );
      if (!res.Body) return null;
      return {
        body: res.Body.transformToWebStream() as ReadableStream<Uint8Array>,
        size,
        contentType: res.ContentType ?? "application/octet-stream",
        range: range ? { start, end } : undefined,
      };
    },
    async size(key) {
      try {
        const head = await client.send(new HeadObjectCommand({ Bucket: opts.bucket, Key: safeKey(key) }));
        return head.ContentLength ?? null;
      } catch (err) {
        if ((err as { $metadata?: { httpStatusCode?: number } }).$metadata?.httpStatusCode === 404) return null;
        throw err;
      }
    },
    async delete(key) {
      // S3 answers a delete of a missing key with success.
      await client.send(new DeleteObjectCommand({ Bucket: opts.bucket, Key: safeKey(key) }));
    },
    async *list(prefix) {
      let token: string | undefined;
      do {
        const page = await client.send(
          new ListObjectsV2Command({ Bucket: opts.bucket, Prefix: folderPrefix(prefix), Delimiter: "/", ContinuationToken: token }),
        );
        for (const o of page.Contents ?? []) {
          if (o.Key && o.LastModified) yield { key: o.Key, size: o.Size ?? 0, modifiedAt: o.LastModified };
        }
        token = page.IsTruncated ? page.NextContinuationToken : undefined;
      } while (token);
    },
  };
}

export function createStorage(config: Pick<Config, "storage">): ObjectStorage {
  return config.storage.kind === "s3" ? createS3Storage(config.storage) : createLocalStorage(config.storage.dir);
}
