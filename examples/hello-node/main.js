// A minimal AgentCore-contract agent in Node.js with only the built-in http module (no npm
// dependencies). It serves the HTTP protocol contract on 0.0.0.0:$PORT (8080 by default):
//
//   GET  /ping         -> {"status": "Healthy", "time_of_last_update": <epoch seconds>}
//   POST /invocations  -> {"result": "Hello, <prompt>!", "calls": <n>, "session": "<id>", "node": "<version>"}
//
// "calls" counts the invocations this process has served: Berth runs one sandbox per
// session, so it counts the calls of the session.
"use strict";

const http = require("http");

const started = Math.floor(Date.now() / 1000);
const greeting = process.env.GREETING || "Hello";
let calls = 0;

function send(res, status, body) {
  const raw = JSON.stringify(body);
  res.writeHead(status, { "Content-Type": "application/json", "Content-Length": Buffer.byteLength(raw) });
  res.end(raw);
}

const server = http.createServer((req, res) => {
  if (req.method === "GET" && req.url === "/ping") {
    send(res, 200, { status: "Healthy", time_of_last_update: started });
    return;
  }
  if (req.method !== "POST" || req.url !== "/invocations") {
    send(res, 404, { error: "not found" });
    return;
  }
  const chunks = [];
  req.on("data", (c) => chunks.push(c));
  req.on("end", () => {
    let payload;
    try {
      payload = JSON.parse(Buffer.concat(chunks).toString("utf8") || "{}");
    } catch (e) {
      send(res, 400, { error: "Invalid JSON", details: String(e.message) });
      return;
    }
    calls += 1;
    send(res, 200, {
      result: `${greeting}, ${(payload && payload.prompt) || "world"}!`,
      calls,
      session: req.headers["x-amzn-bedrock-agentcore-runtime-session-id"] || "",
      node: process.version,
    });
  });
});

const port = Number(process.env.PORT || 8080);
server.listen(port, "0.0.0.0", () => console.log(`hello-node listening on 0.0.0.0:${port}`));
process.on("SIGTERM", () => server.close(() => process.exit(0)));
