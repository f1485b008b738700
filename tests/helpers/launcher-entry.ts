// `npm start` (scripts/start.ts) for the launcher's tests: the same launch and
// lifecycle, with the stand-in web process (tests/helpers/fake-web.ts) and short
// restart waits, so no production build is needed.
import path from "node:path";
import { fileURLToPath } from "node:url";
import { launch } from "../../server/runtime/launch.ts";
import { runUntilSignal } from "../../scripts/lib/lifecycle.ts";

const here = path.dirname(fileURLToPath(import.meta.url));
await runUntilSignal(
  () =>
    launch({
      webScript: process.env.TEST_WEB_SCRIPT ?? path.join(here, "fake-web.ts"),
      restartPolicy: { baseMs: 100, capMs: 400, maxFailures: 3, windowMs: 60_000, healthyAfterMs: 60_000 },
    }),
  () => console.log("\nStopping…"),
);
