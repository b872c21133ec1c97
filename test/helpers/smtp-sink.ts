import type { AddressInfo } from 'node:net';
import { type AddressObject, type Headers, simpleParser } from 'mailparser';
import { SMTPServer } from 'smtp-server';

/** A mail as the sink received it, parsed by mailparser. */
export interface SinkMail {
  /** The To header, as text (`alice@example.com`, or `Alice <alice@example.com>`). */
  to: string;
  /** The From header, as text. */
  from: string;
  /** The From address alone and its display name. */
  fromAddress: string;
  fromName: string;
  /** The addresses of the SMTP envelope (RCPT TO). */
  envelopeTo: string[];
  subject: string;
  /** The text/plain part ('' when there is none). */
  text: string;
  /** The text/html part ('' when there is none). */
  html: string;
  headers: Headers;
  /** The whole message as it came over the wire. */
  raw: string;
}

export interface SmtpSink {
  port: number;
  /** `smtp://127.0.0.1:PORT`, for SMTP_URL. */
  url: string;
  /** Every mail received so far, oldest first. */
  mails: SinkMail[];
  /** Resolves with the first mail (already received or still to come) that matches. */
  waitForMail: (predicate: (mail: SinkMail) => boolean, timeoutMs?: number) => Promise<SinkMail>;
  /**
   * From now until the returned function is called, a mail is kept (it shows in `mails`) but not
   * acknowledged: its sender waits for the server's answer to DATA, as with a slow server.
   */
  hold: () => () => void;
  clear: () => void;
  close: () => Promise<void>;
}

const POLL_MS = 50;

function addressText(value: AddressObject | AddressObject[] | undefined): string {
  if (!value) {
    return '';
  }
  return (Array.isArray(value) ? value : [value]).map((a) => a.text).join(', ');
}

/**
 * A real SMTP server on 127.0.0.1 that keeps every mail it is given. Port 0 (the default) picks a
 * free port; a given port lets a test bring "the mail server" up where the app already points.
 */
export async function startSmtpSink(port = 0): Promise<SmtpSink> {
  const mails: SinkMail[] = [];
  /** While set, received mails are answered only once it resolves (see `hold`). */
  let held: Promise<void> | undefined;
  const server = new SMTPServer({
    authOptional: true,
    disabledCommands: ['STARTTLS'],
    logger: false,
    // Tests close the sink after the app; never wait long for a connection left open.
    closeTimeout: 1000,
    onData(stream, session, callback) {
      const chunks: Buffer[] = [];
      stream.on('data', (chunk: Buffer) => chunks.push(chunk));
      stream.on('error', callback);
      stream.on('end', () => {
        const raw = Buffer.concat(chunks);
        simpleParser(raw)
          .then((parsed) => {
            mails.push({
              to: addressText(parsed.to),
              from: addressText(parsed.from),
              fromAddress: parsed.from?.value[0]?.address ?? '',
              fromName: parsed.from?.value[0]?.name ?? '',
              envelopeTo: session.envelope.rcptTo.map((r) => r.address),
              subject: parsed.subject ?? '',
              text: parsed.text ?? '',
              html: parsed.html || '',
              headers: parsed.headers,
              raw: raw.toString('utf8'),
            });
            return held;
          })
          .then(() => callback())
          .catch((error: unknown) => callback(error as Error));
      });
    },
  });

  await new Promise<void>((resolve, reject) => {
    server.server.once('error', reject);
    server.listen(port, '127.0.0.1', () => {
      server.server.off('error', reject);
      resolve();
    });
  });
  const actualPort = (server.server.address() as AddressInfo).port;

  const waitForMail = async (
    predicate: (mail: SinkMail) => boolean,
    timeoutMs = 10_000,
  ): Promise<SinkMail> => {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const found = mails.find(predicate);
      if (found) {
        return found;
      }
      if (Date.now() >= deadline) {
        const seen = mails.map((m) => `"${m.subject}" to ${m.to}`).join('; ') || 'none';
        throw new Error(`no matching mail within ${timeoutMs} ms (received: ${seen})`);
      }
      await new Promise((resolve) => setTimeout(resolve, POLL_MS));
    }
  };

  return {
    port: actualPort,
    url: `smtp://127.0.0.1:${actualPort}`,
    mails,
    waitForMail,
    hold: () => {
      let release = (): void => undefined;
      held = new Promise<void>((resolve) => {
        release = resolve;
      });
      return () => {
        held = undefined;
        release();
      };
    },
    clear: () => {
      mails.length = 0;
    },
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}
