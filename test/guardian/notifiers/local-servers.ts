import { createServer, type IncomingMessage, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { SMTPServer, type SMTPServerOptions } from "smtp-server";

export interface CapturedRequest {
  method: string;
  path: string;
  headers: IncomingMessage["headers"];
  body: string;
}

export interface CaptureServer {
  url: string;
  requests: CapturedRequest[];
  /** Resolves with the n-th request (0-based) once it has arrived. */
  request(n: number): Promise<CapturedRequest>;
  close(): Promise<void>;
}

type Reply = (req: CapturedRequest, res: ServerResponse, index: number) => void;

/** An HTTP server on 127.0.0.1 that records every request and answers through `reply`. */
export async function startCaptureServer(reply: Reply): Promise<CaptureServer> {
  const requests: CapturedRequest[] = [];
  const waiters = new Map<number, (r: CapturedRequest) => void>();
  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on("data", (c: Buffer) => chunks.push(c));
    req.on("end", () => {
      const captured = { method: req.method ?? "", path: req.url ?? "", headers: req.headers, body: Buffer.concat(chunks).toString("utf8") };
      const index = requests.push(captured) - 1;
      waiters.get(index)?.(captured);
      reply(captured, res, index);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    requests,
    request: (n) => (requests[n] ? Promise.resolve(requests[n]) : new Promise((resolve) => waiters.set(n, resolve))),
    close: () =>
      new Promise((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

export function json(res: ServerResponse, status: number, body: unknown): void {
  res.writeHead(status, { "content-type": "application/json" }).end(JSON.stringify(body));
}

export interface ReceivedMail {
  from: string;
  to: string[];
  raw: string;
  /** Header names lowercased; folded lines joined. */
  headers: Map<string, string>;
  body: string;
  /** The user the server authenticated (onAuth checks user and password), if any. */
  user?: string;
}

export interface SmtpCapture {
  port: number;
  mails: ReceivedMail[];
  mail(n: number): Promise<ReceivedMail>;
  close(): Promise<void>;
}

/** Decodes RFC 2047 encoded-words (`=?UTF-8?Q?...?=`, `=?UTF-8?B?...?=`) as mail clients display them. */
function decodeWords(value: string): string {
  return value
    .replace(/\?=\s+=\?/g, "?==?")
    .replace(/=\?utf-8\?([qb])\?([^?]*)\?=/gi, (_, enc: string, text: string) =>
      enc.toUpperCase() === "B"
        ? Buffer.from(text, "base64").toString("utf8")
        : Buffer.from(
            text.replace(/_/g, " ").replace(/=([0-9A-F]{2})/gi, (_m, h: string) => String.fromCharCode(parseInt(h, 16))),
            "latin1",
          ).toString("utf8"),
    );
}

/** Splits an RFC 5322 message into unfolded headers and a body with quoted-printable soft breaks undone. */
export function parseMail(raw: string): { headers: Map<string, string>; body: string } {
  const split = raw.indexOf("\r\n\r\n");
  const head = raw.slice(0, split).replace(/\r\n[ \t]+/g, " ");
  const headers = new Map<string, string>();
  for (const line of head.split("\r\n")) {
    const colon = line.indexOf(":");
    headers.set(line.slice(0, colon).trim().toLowerCase(), decodeWords(line.slice(colon + 1).trim()));
  }
  let body = raw.slice(split + 4);
  if (/quoted-printable/i.test(headers.get("content-transfer-encoding") ?? "")) {
    body = Buffer.from(
      body.replace(/=\r\n/g, "").replace(/=([0-9A-F]{2})/g, (_, h: string) => String.fromCharCode(parseInt(h, 16))),
      "latin1",
    ).toString("utf8");
  }
  return { headers, body: body.replace(/\r\n/g, "\n") };
}

/** A real SMTP server (smtp-server) on 127.0.0.1 that accepts PLAIN/LOGIN auth without TLS. */
export async function startSmtpCapture(options: { user?: string; pass?: string; rejectFirst?: number } = {}): Promise<SmtpCapture> {
  const mails: ReceivedMail[] = [];
  const waiters = new Map<number, (m: ReceivedMail) => void>();
  let rejections = options.rejectFirst ?? 0;
  const config: SMTPServerOptions = {
    secure: false,
    disabledCommands: ["STARTTLS"],
    allowInsecureAuth: true,
    authOptional: !options.user,
    logger: false,
    onAuth(auth, session, callback) {
      if (auth.username === options.user && auth.password === options.pass) return callback(null, { user: auth.username });
      return callback(new Error("Invalid username or password"));
    },
    onData(stream, session, callback) {
      const chunks: Buffer[] = [];
      stream.on("data", (c: Buffer) => chunks.push(c));
      stream.on("end", () => {
        if (rejections > 0) {
          rejections--;
          const err = new Error("mailbox busy, try later") as Error & { responseCode: number };
          err.responseCode = 451;
          return callback(err);
        }
        const raw = Buffer.concat(chunks).toString("utf8");
        const parsed = parseMail(raw);
        const mail: ReceivedMail = {
          from: session.envelope.mailFrom ? session.envelope.mailFrom.address : "",
          to: session.envelope.rcptTo.map((r) => r.address),
          raw,
          ...parsed,
          ...(session.user ? { user: String(session.user) } : {}),
        };
        const index = mails.push(mail) - 1;
        waiters.get(index)?.(mail);
        callback();
      });
    },
  };
  const server = new SMTPServer(config);
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.server.address() as AddressInfo;
  return {
    port,
    mails,
    mail: (n) => (mails[n] ? Promise.resolve(mails[n]) : new Promise((resolve) => waiters.set(n, resolve))),
    close: () => new Promise((resolve) => server.close(() => resolve())),
  };
}
