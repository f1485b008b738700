/**
 * What a person types when making a key (pure: the settings page's form uses
 * it in the browser, the tRPC input and the domain on the server).
 */
import { z } from "zod";

export const API_KEY_NAME_MAX = 60;

/** A key's name: what it is for ("Notebook on my laptop"); one line of plain text. */
export const apiKeyNameSchema = z
  .string()
  .trim()
  .min(1, "Give the key a name, e.g. what it is for.")
  .max(API_KEY_NAME_MAX, `Keep the name to ${API_KEY_NAME_MAX} characters or fewer.`)
  // eslint-disable-next-line no-control-regex
  .refine((name) => !/[\u0000-\u001f\u007f]/.test(name), "Use a name on one line, without control characters.");

/** The expiries the form offers, in days; absent: the key works until it is revoked. */
export const API_KEY_EXPIRY_DAYS = [7, 30, 90, 365] as const;

export const createApiKeyInput = z.object({
  name: apiKeyNameSchema,
  /** Whole days from now; absent: no expiry. */
  expiresInDays: z.number().int("a whole number of days").min(1, "at least one day").max(3650, "at most ten years").optional(),
});
export type CreateApiKeyInput = z.input<typeof createApiKeyInput>;

/** A key as lists show it: the secret never, its prefix always. */
export type ApiKeyStatus = "active" | "expired" | "revoked";

/** Whether a key works, as of `now` (the person's own status aside). */
export function apiKeyStatus(key: { revokedAt: Date | null; expiresAt: Date | null }, now: Date): ApiKeyStatus {
  if (key.revokedAt) return "revoked";
  if (key.expiresAt && key.expiresAt <= now) return "expired";
  return "active";
}
