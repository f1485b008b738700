import type { Metadata } from "next";
import type { ReactNode } from "react";
import { Providers } from "./_components/providers.tsx";
import "./globals.css";
import "./_styles/lists.css";

// Every page is rendered per request: each answer carries a fresh CSP nonce
// (server/http/web-server.ts) that Next.js must put on its scripts.
export const dynamic = "force-dynamic";

export const metadata: Metadata = {
  // Each page names itself first: "My history · Wan video portal".
  title: { default: "Wan video portal", template: "%s · Wan video portal" },
  description: "Generate videos with Wan 2.7 image-to-video, together, with the costs in view.",
};

export default function RootLayout({ children }: { children: ReactNode }) {
  return (
    <html lang="en">
      <body>
        {/* Every page's content is a <main id="main">: the first Tab lands here. */}
        <a href="#main" className="skip-link">
          Skip to content
        </a>
        <Providers>{children}</Providers>
      </body>
    </html>
  );
}
