/** A real SMTP server on loopback that keeps what it receives (recipients, subject, body). */
import { SMTPServer } from "smtp-server";
import { freePort } from "@/server/db/embedded.ts";

export interface Received {
  to: string;
  subject: string;
  body: string;
}

export async function startSmtpCatcher(): Promise<{ url: string; received: Received[]; close: () => Promise<void> }> {
  const received: Received[] = [];
  const smtp = new SMTPServer({
    authOptional: true,
    disabledCommands: ["STARTTLS"],
    onData(stream, session, done) {
      let body = "";
      stream.on("data", (c: Buffer) => (body += c.toString()));
      stream.on("end", () => {
        received.push({ to: session.envelope.rcptTo.map((r) => r.address).join(","), subject: /^Subject: (.*)$/m.exec(body)?.[1] ?? "", body });
        done();
      });
    },
  });
  const port = await freePort();
  await new Promise<void>((r) => smtp.listen(port, "127.0.0.1", () => r()));
  return { url: `smtp://127.0.0.1:${port}`, received, close: () => new Promise<void>((r) => smtp.close(() => r())) };
}
