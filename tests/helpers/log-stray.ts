// A process that logs as the portal's entry points do (setLogService), then
// prints the way Next.js and libraries do: console.*, a Node warning. For
// tests/unit/logging.test.ts (with LOG_FORMAT=json every line is JSON).
import { logger, setLogService } from "../../server/logging/logger.ts";

setLogService("web");
logger().info({ taskId: "t-1" }, "own line");
console.log("✓ Running next.config.mjs took %dms", 56);
console.error("[auth]", new Error("bad sign-in"));
process.emitWarning("The AWS SDK for JavaScript\nwill require node >=22.", "NodeVersionSupportWarning");
setTimeout(() => {}, 50);
