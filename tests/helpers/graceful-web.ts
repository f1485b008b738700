// A stand-in for scripts/web.ts in the graceful-stop test (no production build
// needed): a plain node:http server stopped by the same code as the portal's
// (server/http/graceful.ts under scripts/lib/lifecycle.ts). POST /slow answers
// 200 with the size of its body once the body has been read: a request stays
// in flight for as long as its client keeps sending. Says "in flight: <path>"
// when a request starts, and "listening" once it accepts connections. Answers
// GET /api/health with its pid, as tests/helpers/fake-web.ts does (the launcher's tests).
import http from "node:http";
import { graceful } from "../../server/http/graceful.ts";
import { runUntilSignal } from "../../scripts/lib/lifecycle.ts";

await runUntilSignal(async () => {
  const server = http.createServer((req, res) => {
    if (stopping.intercept(req, res)) return;
    if (req.url === "/api/health") {
      res.writeHead(200, { "Content-Type": "application/json" }).end(JSON.stringify({ ok: true, pid: process.pid }));
      return;
    }
    console.log(`in flight: ${req.url}`);
    let size = 0;
    req.on("data", (chunk: Buffer) => (size += chunk.length));
    req.on("end", () => res.writeHead(200, { "Content-Type": "text/plain" }).end(`read ${size} bytes`));
  });
  const stopping = graceful(server, Number(process.env.GRACE_MS ?? 600_000));
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(Number(process.env.PORT), "127.0.0.1", resolve);
  });
  console.log("listening");
  return {
    async stop() {
      console.log("stopping");
      const { inFlight, cut } = await stopping.close();
      console.log(`stopped: ${inFlight} in flight, ${cut} cut`);
    },
  };
});
