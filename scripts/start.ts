// npm start: the whole portal on this machine (see server/runtime/launch.ts).
// First: with LOG_FORMAT=json, what the modules below print becomes log lines (server/logging/logger.ts).
import { logger, setLogService } from "../server/logging/logger.ts";
import { launch } from "../server/runtime/launch.ts";
import { runUntilSignal } from "./lib/lifecycle.ts";

setLogService("launcher");
await runUntilSignal(() => launch(), () => logger().info("Stopping…"));
