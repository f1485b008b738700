/**
 * Outgoing mail (invitation and password-reset links) through nodemailer,
 * when SMTP_URL is configured. Without it there is no mailer and the links
 * are shown to the admin to pass on. A mail that cannot be sent is reported
 * to the caller, never thrown at the person: the link still works.
 */
import nodemailer from "nodemailer";
import { logger } from "../logging/logger.ts";

export interface MailMessage {
  to: string;
  subject: string;
  text: string;
}

export interface Mailer {
  /** Resolves true when the server accepted the message, false (logged) when it could not be sent. */
  send(message: MailMessage): Promise<boolean>;
}

export function createMailer(opts: { smtpUrl: string; from: string; log?: (line: string) => void }): Mailer {
  const transport = nodemailer.createTransport(opts.smtpUrl);
  const log = opts.log ?? ((line: string) => logger().warn(line));
  return {
    async send(message) {
      try {
        await transport.sendMail({ from: opts.from, ...message });
        return true;
      } catch (err) {
        log(`mail: could not send "${message.subject}" to ${message.to}: ${(err as Error).message}`);
        return false;
      }
    },
  };
}
