// Starts `accessplane serve` on a fresh SQLite file and a free port, reads the Owner key it
// prints at first start, and hands both to the tests through the environment.
import { spawn, type ChildProcess } from "node:child_process";
import { existsSync, mkdtempSync, rmSync } from "node:fs";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";

const REPO = resolve(import.meta.dirname, "../..");
// The real OpenID Provider the Python suite runs (npm package oidc-provider), when installed.
const PROVIDER = join(REPO, "tests/oidc/provider");

// A real SMTP server (console/e2e/mailsink.py, aiosmtpd) writing each mail it gets to a
// directory, for the mails of story.spec.ts; the reason instead if it cannot run here.
async function startMailSink(python: string, dir: string): Promise<{ child: ChildProcess; port: number } | string> {
  const port = await freePort();
  const child = spawn(python, [join(import.meta.dirname, "mailsink.py"), dir, String(port)], {
    stdio: ["ignore", "pipe", "ignore"],
  });
  let said = "";
  return new Promise((done, fail) => {
    // Like the server's: a sink that neither says ready nor exits fails the set-up, not the run's patience.
    const timer = setTimeout(() => {
      child.kill();
      fail(new Error(`console/e2e/mailsink.py was not ready within 60 s:\n${said}`));
    }, 60_000);
    child.stdout?.on("data", (chunk: Buffer) => {
      said += chunk.toString();
      if (!said.includes("ready")) return;
      clearTimeout(timer);
      done({ child, port });
    });
    child.on("exit", () => {
      clearTimeout(timer);
      done(said.trim() || "console/e2e/mailsink.py did not start");
    });
  });
}

async function startProvider(appBase: string): Promise<{ child: ChildProcess; issuer: string } | null> {
  if (!existsSync(join(PROVIDER, "node_modules/oidc-provider"))) return null;
  const port = await freePort();
  const child = spawn(process.execPath, [join(PROVIDER, "provider.mjs")], {
    cwd: PROVIDER,
    env: { ...process.env, PORT: String(port), APP_BASE_URL: appBase },
    stdio: "ignore",
  });
  const issuer = `http://127.0.0.1:${port}`;
  for (let attempt = 0; attempt < 100; attempt++) {
    const ready = await fetch(`${issuer}/.well-known/openid-configuration`).then(
      (r) => r.ok,
      () => false,
    );
    if (ready) return { child, issuer };
    await new Promise((done) => setTimeout(done, 100));
  }
  child.kill();
  throw new Error("the OpenID Provider did not start");
}

function freePort(): Promise<number> {
  return new Promise((done, fail) => {
    const server = createServer();
    server.listen(0, "127.0.0.1", () => {
      const address = server.address();
      server.close(() => (typeof address === "object" && address ? done(address.port) : fail(new Error("no port"))));
    });
  });
}

export default async function globalSetup(): Promise<() => Promise<void>> {
  const port = await freePort();
  const provider = await startProvider(`http://127.0.0.1:${port}`);
  const issuers = provider
    ? JSON.stringify([
        {
          name: "local",
          issuer: provider.issuer,
          client_id: "accessplane-console",
          client_secret: "console-secret",
          bootstrap_owner: true,
        },
      ])
    : "[]";
  const dir = mkdtempSync(join(tmpdir(), "accessplane-e2e-"));
  const python = process.env.ACCESSPLANE_PYTHON ?? join(REPO, ".venv/bin/python");
  // Mail: sent to the sink by the notification worker inside the server, every half second.
  const mailDir = join(dir, "mail");
  const sink = await startMailSink(python, mailDir);
  const mail =
    typeof sink === "string"
      ? {}
      : {
          ACCESSPLANE_SMTP_HOST: "127.0.0.1",
          ACCESSPLANE_SMTP_PORT: String(sink.port),
          ACCESSPLANE_SMTP_STARTTLS: "false",
          ACCESSPLANE_NOTIFICATION_WORKER_IN_PROCESS: "true",
          ACCESSPLANE_NOTIFICATION_WORKER_INTERVAL: "0.5",
        };
  const child: ChildProcess = spawn(python, ["-m", "accessplane.cli", "serve"], {
    cwd: dir,
    env: {
      ...process.env,
      ACCESSPLANE_DATABASE_URL: `sqlite+aiosqlite:///${dir}/e2e.db`,
      ACCESSPLANE_PORT: String(port),
      ACCESSPLANE_SECRET_KEY: "e2e-secret-0123456789abcdef0123456789",
      ACCESSPLANE_OIDC_ISSUERS: issuers,
      ACCESSPLANE_DECISION_USAGE_FLUSH_SECONDS: "0.5", // usage.spec.ts reads the counts soon after the calls
      ...mail,
    },
    stdio: ["ignore", "pipe", "pipe"],
  });
  let output = "";
  const key = await new Promise<string>((done, fail) => {
    let found: string | null = null;
    const timer = setTimeout(() => fail(new Error(`accessplane serve did not start:\n${output}`)), 60_000);
    const read = (chunk: Buffer) => {
      output += chunk.toString();
      found ??= output.match(/apk_[A-Za-z0-9]{36}/)?.[0] ?? null;
      if (found && output.includes("Uvicorn running")) {
        clearTimeout(timer);
        done(found);
      }
    };
    child.stdout?.on("data", read);
    child.stderr?.on("data", read);
    child.on("exit", (code) => fail(new Error(`accessplane serve exited (${code}):\n${output}`)));
  });
  process.env.ACCESSPLANE_E2E_URL = `http://127.0.0.1:${port}`;
  process.env.ACCESSPLANE_E2E_KEY = key;
  process.env.ACCESSPLANE_E2E_OIDC = provider ? "local" : "";
  process.env.ACCESSPLANE_E2E_MAIL = typeof sink === "string" ? "" : mailDir;
  process.env.ACCESSPLANE_E2E_MAIL_MISSING = typeof sink === "string" ? sink : "";
  return async () => {
    provider?.child.kill("SIGTERM");
    if (typeof sink !== "string") sink.child.kill("SIGTERM");
    child.kill("SIGTERM");
    await new Promise((done) => child.once("exit", done));
    rmSync(dir, { recursive: true, force: true });
  };
}
