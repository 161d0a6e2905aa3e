// The benchmark's "floor": the least a Twilio webhook server can do on this machine. node:http, no
// framework: read the urlencoded form, check X-Twilio-Signature with Twilio's SDK (same token and URL
// as the project server), answer a fixed TwiML reply. Started by scripts/bench/run.ts as a child
// process with plain `node`, so its RSS and CPU are measured exactly like the server's.
//
// Env: BENCH_FLOOR_PORT, TWILIO_AUTH_TOKEN, PUBLIC_BASE_URL. Listens on 127.0.0.1 only.
import http from "node:http";
import twilio from "twilio";

const port = Number(process.env.BENCH_FLOOR_PORT);
const token = process.env.TWILIO_AUTH_TOKEN ?? "";
const url = `${(process.env.PUBLIC_BASE_URL ?? "").replace(/\/+$/, "")}/webhooks/twilio`;
const LIMIT = 32 * 1024;
// A reference like the server's last reply carries, so the load generator's checks are the same.
const TWIML = '<?xml version="1.0" encoding="UTF-8"?><Response><Message>تم تسجيل طلبك. رقم الطلب #1</Message></Response>';

const server = http.createServer((req, res) => {
  if (req.method === "GET" && req.url === "/healthz") {
    res.writeHead(200, { "content-type": "application/json" }).end('{"status":"ok"}');
    return;
  }
  if (req.method !== "POST" || req.url !== "/webhooks/twilio") {
    res.writeHead(404).end();
    return;
  }
  const chunks = [];
  let size = 0;
  req.on("data", (chunk) => {
    size += chunk.length;
    if (size > LIMIT) {
      res.writeHead(413).end();
      req.destroy();
      return;
    }
    chunks.push(chunk);
  });
  req.on("end", () => {
    if (res.headersSent) return;
    const params = Object.fromEntries(new URLSearchParams(Buffer.concat(chunks).toString("utf8")));
    const signature = req.headers["x-twilio-signature"];
    if (typeof signature !== "string" || !twilio.validateRequest(token, signature, url, params)) {
      res.writeHead(403, { "content-type": "text/plain" }).end("Invalid X-Twilio-Signature");
      return;
    }
    res.writeHead(200, { "content-type": "text/xml; charset=utf-8" }).end(TWIML);
  });
});

server.listen(port, "127.0.0.1");
const stop = () => {
  server.close(() => process.exit(0));
  server.closeAllConnections();
  setTimeout(() => process.exit(0), 2000).unref();
};
process.once("SIGTERM", stop);
process.once("SIGINT", stop);
