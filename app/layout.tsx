import type { Metadata } from "next";
import type { ReactNode } from "react";
import { Providers } from "./_components/providers.tsx";
import "./globals.css";

export const metadata: Metadata = {
  title: "Wan video portal",
  description: "Generate videos with Wan 2.7 image-to-video, together, with the costs in view.",
};

export default function RootLayout({ children }: { children: ReactNode }) {
  return (
    <html lang="en">
      <body>
        <Providers>{children}</Providers>
      </body>
    </html>
  );
}
