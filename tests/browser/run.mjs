// Drives Debian's Chromium (headless, through playwright-core; no downloaded browser) through
// examples/browser.rs: login form, HttpOnly session cookie, protected page, cross-site form
// posts refused by the CSRF check, logout. Started by tests/browser/run.sh, which serves the
// example and sets APP_URL and ATTACKER_URL.
//
// Environment: APP_URL, ATTACKER_URL (required); DEMO_EMAIL, DEMO_PASSWORD (the example's
// demo user); CHROMIUM (default /usr/bin/chromium); BROWSER_ARTIFACTS (a directory for a
// screenshot and the page's HTML when a check fails).

import { mkdtempSync, rmSync, writeFileSync, mkdirSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { chromium } from "playwright-core";

const APP = need("APP_URL");
const ATTACKER = need("ATTACKER_URL");
const EMAIL = process.env.DEMO_EMAIL || "demo@example.com";
const PASSWORD = process.env.DEMO_PASSWORD || "demo-password";
const CHROMIUM = process.env.CHROMIUM || "/usr/bin/chromium";
const ARTIFACTS = process.env.BROWSER_ARTIFACTS || "";
const COOKIE = "fastapiusersauth";
// The attacker's own account, hard-coded in the example's attacker page (login CSRF).
const MALLORY = { email: "mallory@example.com", password: "mallory-password" };

function need(name) {
  const value = process.env[name];
  if (!value) {
    console.error(`run.mjs: ${name} is not set (start it through tests/browser/run.sh)`);
    process.exit(2);
  }
  return value.replace(/\/$/, "");
}

class CheckFailed extends Error {}

let passed = 0;
function check(condition, what, detail = "") {
  if (!condition) {
    throw new CheckFailed(`${what}${detail ? `: ${detail}` : ""}`);
  }
  passed += 1;
  console.log(`ok ${passed} - ${what}`);
}

const sameUrl = (a, b) => a.replace(/\/$/, "") === b.replace(/\/$/, "");
const isPost = (url) => (r) => sameUrl(r.url(), url) && r.request().method() === "POST";

async function sessionCookie(context) {
  return (await context.cookies(APP)).find((c) => c.name === COOKIE);
}

/// Cookie-less HTTP from Node (not the browser): registration and control requests.
async function http(path, init = {}) {
  const response = await fetch(APP + path, { redirect: "manual", ...init });
  return { status: response.status, body: await response.text() };
}

const userDataDir = mkdtempSync(join(tmpdir(), "axum-users-chromium-"));
let context;
let page;
try {
  context = await chromium.launchPersistentContext(userDataDir, {
    executablePath: CHROMIUM,
    headless: true,
    args: [
      "--headless",
      "--no-sandbox",
      "--disable-gpu",
      "--disable-quic",
      "--no-first-run",
      "--disable-background-networking",
      "--disable-component-update",
      "--disable-sync",
    ],
  });
  context.setDefaultTimeout(15000);
  page = context.pages()[0] || (await context.newPage());
  console.log(`# ${CHROMIUM} ${context.browser()?.version() ?? ""}, app ${APP}, attacker ${ATTACKER}`);

  // 1. A wrong password: the form shows the failure, no cookie is set.
  await page.goto(APP + "/");
  await page.fill("#username", EMAIL);
  await page.fill("#password", "not-the-password");
  const [bad] = await Promise.all([
    page.waitForResponse(isPost(APP + "/auth/cookie/login")),
    page.click("#submit"),
  ]);
  check(bad.status() === 400, "wrong password: the login route answers 400", `got ${bad.status()}`);
  await page.waitForFunction(() => /Login failed/.test(document.getElementById("status").textContent));
  const failure = await page.textContent("#status");
  check(
    failure.includes("LOGIN_BAD_CREDENTIALS"),
    "wrong password: the page shows the failure",
    JSON.stringify(failure),
  );
  check(sameUrl(page.url(), APP + "/"), "wrong password: the browser stays on the login page", page.url());
  check(!(await sessionCookie(context)), "wrong password: no session cookie");

  // 2. The right password: 204 + Set-Cookie, then the script goes to /private.
  await page.fill("#password", PASSWORD);
  const [good] = await Promise.all([
    page.waitForResponse(isPost(APP + "/auth/cookie/login")),
    page.click("#submit"),
  ]);
  check(good.status() === 204, "login: the login route answers 204", `got ${good.status()}`);
  const setCookie = (await good.headerValue("set-cookie")) || "";
  check(
    setCookie.startsWith(`${COOKIE}=`) && /;\s*HttpOnly/i.test(setCookie),
    "login: Set-Cookie carries the session cookie, HttpOnly",
    JSON.stringify(setCookie.replace(/=[^;]*/, "=<token>")),
  );
  await page.waitForURL(APP + "/private");
  const cookie = await sessionCookie(context);
  check(!!cookie, "login: the browser context holds the session cookie");
  check(cookie.httpOnly === true, "login: the cookie is httpOnly", `httpOnly=${cookie.httpOnly}`);
  check(cookie.sameSite === "Lax", "login: the cookie is SameSite=Lax", `sameSite=${cookie.sameSite}`);
  check(cookie.path === "/" && !cookie.domain.startsWith("."), "login: host-only cookie, Path=/", `${cookie.domain} ${cookie.path}`);

  // 3. Scripts cannot read it.
  const visible = await page.evaluate(() => document.cookie);
  check(
    !visible.includes(COOKIE) && !visible.includes(cookie.value),
    "document.cookie does not expose the session cookie",
    JSON.stringify(visible),
  );

  // 4. The protected page renders for the user.
  check((await page.textContent("#email")) === EMAIL, "the protected page shows the user's e-mail");

  // 5. A same-origin form post through the cookie works (the control for step 6).
  await page.fill("#note", "hello from the app");
  const [added] = await Promise.all([
    page.waitForResponse(isPost(APP + "/private/notes")),
    page.click("#add-note button"),
  ]);
  check(added.status() === 303, "same-origin note form: 303 to /private", `got ${added.status()}`);
  await page.waitForURL(APP + "/private");
  check(
    (await page.textContent("#notes")).includes("hello from the app"),
    "same-origin note form: the note is on the page",
  );

  // 6. Cross-site form post: the attacker page (another port of 127.0.0.1: another origin, the
  // same site, so SameSite=Lax still sends the cookie) auto-submits a note.
  const [forged] = await Promise.all([
    page.waitForResponse(isPost(APP + "/private/notes")),
    page.goto(ATTACKER + "/"),
  ]);
  const forgedHeaders = await forged.request().allHeaders();
  check(
    (forgedHeaders["cookie"] || "").includes(`${COOKIE}=`),
    "cross-site form post: the browser did send the session cookie (same site), so only the CSRF check can stop it",
    JSON.stringify(Object.keys(forgedHeaders)),
  );
  check(
    forgedHeaders["origin"] === ATTACKER,
    "cross-site form post: Origin is the attacker's",
    String(forgedHeaders["origin"]),
  );
  check(forged.status() === 403, "cross-site form post: 403", `got ${forged.status()}`);
  const forgedBody = await forged.text().catch(async () => page.textContent("body"));
  check(forgedBody.includes("CSRF_FAILED"), "cross-site form post: body CSRF_FAILED", JSON.stringify(forgedBody));
  const afterForgery = await page.goto(APP + "/private");
  check(afterForgery.status() === 200, "after the forgery: still logged in", `got ${afterForgery.status()}`);
  check((await page.textContent("#email")) === EMAIL, "after the forgery: the page shows the user's e-mail");
  const notes = await page.textContent("#notes");
  check(
    !notes.includes("pwned") && notes.includes("hello from the app"),
    "after the forgery: the notes are unchanged",
    JSON.stringify(notes),
  );

  // 7. Login CSRF: the attacker page logs the visitor in to the attacker's account. The account
  // exists and its password is right (checked from Node with the app's own Origin), so a 403 is
  // the CSRF check's.
  const registered = await http("/auth/register", {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify(MALLORY),
  });
  check(
    registered.status === 201 || registered.body.includes("REGISTER_USER_ALREADY_EXISTS"),
    "login CSRF: the attacker's account exists",
    `${registered.status} ${registered.body}`,
  );
  const control = await http("/auth/cookie/login", {
    method: "POST",
    headers: { origin: APP },
    body: new URLSearchParams({ username: MALLORY.email, password: MALLORY.password }),
  });
  check(control.status === 204, "login CSRF: the attacker's credentials are valid from the app's origin", `got ${control.status}`);
  const before = (await sessionCookie(context)).value;
  const [forgedLogin] = await Promise.all([
    page.waitForResponse(isPost(APP + "/auth/cookie/login")),
    page.goto(ATTACKER + "/login"),
  ]);
  check(forgedLogin.status() === 403, "login CSRF: cross-site login form refused with 403", `got ${forgedLogin.status()}`);
  const forgedLoginBody = await forgedLogin.text().catch(async () => page.textContent("body"));
  check(forgedLoginBody.includes("CSRF_FAILED"), "login CSRF: body CSRF_FAILED", JSON.stringify(forgedLoginBody));
  check((await sessionCookie(context))?.value === before, "login CSRF: the session cookie is unchanged");
  await page.goto(APP + "/private");
  check((await page.textContent("#email")) === EMAIL, "login CSRF: still logged in as the user, not the attacker");

  // 8. Logout (same origin): the cookie goes, /private answers 401, the old session is dead.
  const [out] = await Promise.all([
    page.waitForResponse(isPost(APP + "/auth/cookie/logout")),
    page.click("#logout-button"),
  ]);
  check(out.status() === 204, "logout: the logout route answers 204", `got ${out.status()}`);
  await page.waitForURL(APP + "/");
  check(!(await sessionCookie(context)), "logout: the browser no longer holds the session cookie");
  const gone = await page.goto(APP + "/private");
  check(gone.status() === 401, "logout: /private answers 401", `got ${gone.status()}`);
  check((await gone.text()).includes("Unauthorized"), "logout: body Unauthorized");
  const replay = await http("/private", { headers: { cookie: `${COOKIE}=${before}` } });
  check(replay.status === 401, "logout: the old cookie value no longer works (session ended on the server)", `got ${replay.status}`);

  console.log(`browser test: all ${passed} checks passed`);
} catch (err) {
  const what = err instanceof CheckFailed ? "check failed" : "error";
  console.error(`FAIL (${what} after ${passed} passing checks): ${err.message}`);
  if (page) {
    console.error(`  page: ${page.url()}`);
    if (ARTIFACTS) {
      try {
        mkdirSync(ARTIFACTS, { recursive: true });
        writeFileSync(join(ARTIFACTS, "page.html"), await page.content());
        await page.screenshot({ path: join(ARTIFACTS, "page.png") });
        console.error(`  screenshot and HTML in ${ARTIFACTS}`);
      } catch (e) {
        console.error(`  (could not save the page: ${e.message})`);
      }
    }
  }
  process.exitCode = 1;
} finally {
  if (context) await context.close().catch(() => {});
  rmSync(userDataDir, { recursive: true, force: true });
}
