// A stand-in for scripts/web.ts in the launcher's tests (no production build
// needed): answers GET /api/health with its pid on PORT, under the same
// lifecycle as the real web process (it stops when its parent is gone). When
// the file named by FAKE_WEB_FAIL_FILE exists, it fails at start, as a web
// server with a broken build or configuration would.
import { logger, setLogService } from "../../server/logging/logger.ts";
import { existsSync } from "node:fs";
import http from "node:http";
import { runUntilSignal } from "../../scripts/lib/lifecycle.ts";

setLogService("web");
const failFile = process.env.FAKE_WEB_FAIL_FILE;
if (failFile && existsSync(failFile)) {
  console.error("fake web: told to fail at start");
  process.exit(3);
}

await runUntilSignal(async () => {
  const server = http.createServer((req, res) => {
    if (req.url === "/api/health") {
      res.writeHead(200, { "Content-Type": "application/json" }).end(JSON.stringify({ ok: true, pid: process.pid }));
      return;
    }
    res.writeHead(404).end();
  });
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(Number(process.env.PORT), "127.0.0.1", resolve);
  });
  logger().info({ port: Number(process.env.PORT) }, "fake web listening");
  return { stop: () => new Promise<void>((r) => server.close(() => r())) };
});
