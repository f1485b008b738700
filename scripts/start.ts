// npm start: the whole portal on this machine (see server/runtime/launch.ts).
import { launch } from "../server/runtime/launch.ts";
import { runUntilSignal } from "./lib/lifecycle.ts";

await runUntilSignal(() => launch(), () => console.log("\nStopping…"));
