// npm start: the whole portal on this machine (see server/runtime/launch.ts).
import { launch } from "../server/runtime/launch.ts";
import { runUntilSignal } from "./lib/lifecycle.ts";
import { logger, setLogService } from "../server/logging/logger.ts";

setLogService("launcher");
await runUntilSignal(() => launch(), () => logger().info("Stopping…"));
