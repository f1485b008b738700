import { expect } from "vitest";
import { ProviderError } from "@/server/provider/types.ts";

/** Resolves with the thrown ProviderError (fails the test if none is thrown). */
export async function providerError(promise: Promise<unknown>): Promise<ProviderError> {
  const err = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(ProviderError);
  return err as ProviderError;
}
