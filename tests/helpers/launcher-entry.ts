// `npm start` (scripts/start.ts) for the launcher's tests: the same launch and
// lifecycle, with the stand-in web process (tests/helpers/fake-web.ts) and short
// restart waits, so no production build is needed. TEST_UNHANDLED_AFTER_START=1
// makes a promise reject unhandled once it runs, as a bug in the in-process
// worker or simulator would.
import { logger, setLogService } from "../../server/logging/logger.ts";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { launch } from "../../server/runtime/launch.ts";
import { runUntilSignal } from "../../scripts/lib/lifecycle.ts";

setLogService("launcher");
const here = path.dirname(fileURLToPath(import.meta.url));
await runUntilSignal(
  () =>
    launch({
      webScript: process.env.TEST_WEB_SCRIPT ?? path.join(here, "fake-web.ts"),
      restartPolicy: { baseMs: 100, capMs: 400, maxFailures: 3, windowMs: 60_000, healthyAfterMs: 60_000 },
    }),
  () => logger().info("Stopping…"),
);
if (process.env.TEST_UNHANDLED_AFTER_START === "1") {
  setTimeout(() => void Promise.reject(new Error("a bug in the worker (test)")), 100);
}
