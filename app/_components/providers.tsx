"use client";
import { MutationCache, QueryCache, QueryClient, QueryClientProvider } from "@tanstack/react-query";
import { createTRPCClient, httpBatchLink } from "@trpc/client";
import { useState, type ReactNode } from "react";
import superjson from "superjson";
import type { AppRouter } from "@/server/api/root.ts";
import { TRPCProvider } from "./trpc.ts";

function signedOut(err: unknown): boolean {
  return (err as { data?: { code?: string } } | null)?.data?.code === "UNAUTHORIZED";
}

function toSignInWhenSignedOut(err: unknown): void {
  if (signedOut(err) && !window.location.pathname.startsWith("/signin")) window.location.assign("/signin");
}

export function Providers({ children }: { children: ReactNode }) {
  const [queryClient] = useState(
    () =>
      new QueryClient({
        defaultOptions: { queries: { staleTime: 1000, retry: (count, err) => count < 1 && !signedOut(err) } },
        // A session ended elsewhere (signed out everywhere, deactivated): go to the sign-in page at once.
        queryCache: new QueryCache({ onError: toSignInWhenSignedOut }),
        mutationCache: new MutationCache({ onError: toSignInWhenSignedOut }),
      }),
  );
  const [trpcClient] = useState(() =>
    createTRPCClient<AppRouter>({ links: [httpBatchLink({ url: "/api/trpc", transformer: superjson })] }),
  );
  return (
    <QueryClientProvider client={queryClient}>
      <TRPCProvider trpcClient={trpcClient} queryClient={queryClient}>
        {children}
      </TRPCProvider>
    </QueryClientProvider>
  );
}
