// The portal's frame: log in (with an account, or an API key), the left menu, and a page
// per route.
//
// Routes live in the URL hash (#/missions/new, #/log?uid=…) so that a page can be
// bookmarked and reloaded; the static server needs no rewrite rules.

import { ApiError, call, feedbackLink, loadConfig, session } from "./api.js";
import { t } from "./i18n.js";
import { clearNotices, flash, h, languageMenu, showFlashes } from "./ui.js";

const MENU = [
  { label: t("SMS Overview"), route: "overview" },
  {
    label: t("SMS"),
    children: [
      { label: t("Bulk Dispatching Tool"), route: "missions" },
      { label: t("SMS Template"), route: "templates" },
    ],
  },
  { label: t("Product Order Mgt"), route: "orders" },
  { label: t("Black List Mgt"), route: "blacklist" },
  {
    label: t("SMS Statistics"),
    children: [
      { label: t("SMS Delivery Statistics"), route: "statistics" },
      { label: t("Dispatching Log"), route: "log" },
      { label: t("Expense Statistics"), route: "expenses" },
    ],
  },
  { label: t("Audit Trail"), route: "audit" },
  // The operator's pages: shown to an operator key only (the API refuses others, 403).
  {
    label: t("Operator"),
    operator: true,
    children: [
      { label: t("Tenants"), route: "tenants" },
      { label: t("Accounts"), route: "accounts" },
      { label: t("Product Packages"), route: "packages" },
      { label: t("Business Channels"), route: "channels" },
      { label: t("Common Templates"), route: "common-templates" },
      { label: t("Platform Black List"), route: "platform-blacklist" },
      { label: t("Unmatched Receipts"), route: "unmatched-receipts" },
      { label: t("Platform Audit Trail"), route: "platform-audit" },
    ],
  },
];

const PAGES = {
  overview: () => import("./pages/overview.js"),
  missions: () => import("./pages/missions.js"),
  "missions/new": () => import("./pages/mission-form.js"),
  "missions/:id": () => import("./pages/mission-detail.js"),
  templates: () => import("./pages/templates.js"),
  orders: () => import("./pages/orders.js"),
  blacklist: () => import("./pages/blacklist.js"),
  statistics: () => import("./pages/statistics.js"),
  log: () => import("./pages/log.js"),
  expenses: () => import("./pages/expenses.js"),
  audit: () => import("./pages/audit.js"),
  tenants: () => import("./pages/tenants.js"),
  accounts: () => import("./pages/accounts.js"),
  packages: () => import("./pages/packages.js"),
  channels: () => import("./pages/channels.js"),
  "common-templates": () => import("./pages/common-templates.js"),
  "platform-blacklist": () => import("./pages/platform-blacklist.js"),
  "unmatched-receipts": () => import("./pages/unmatched-receipts.js"),
  "platform-audit": () => import("./pages/platform-audit.js"),
};
const OPERATOR_ROUTES = new Set(MENU.filter((item) => item.operator).flatMap((item) => item.children.map((c) => c.route)));

const root = document.getElementById("app");
// The tenant's overview, read once per login: time zone, route ids, name.
let account = null;

/** Whether the portal is used with an operator's API key (its overview says so). */
const isOperator = () => account?.key?.role === "operator";

/** The menu this key may use: the operator's group for an operator key only. */
const menuItems = () => MENU.filter((item) => !item.operator || isOperator());

function parseHash() {
  const [path, search] = window.location.hash.replace(/^#\/?/, "").split("?");
  const segments = (path || "overview").split("/").filter(Boolean);
  const query = Object.fromEntries(new URLSearchParams(search || ""));
  if (segments[0] === "missions" && segments[1] && segments[1] !== "new") {
    return { route: "missions/:id", params: { id: decodeURIComponent(segments[1]) }, query };
  }
  const route = segments.join("/");
  const allowed = route in PAGES && (!OPERATOR_ROUTES.has(route) || isOperator());
  return { route: allowed ? route : "overview", params: {}, query };
}

export function navigate(path) {
  window.location.hash = `#/${path}`;
}

function trail(route) {
  const base = route.split("/")[0];
  for (const item of menuItems()) {
    if (item.route === base) return [item.label];
    const child = (item.children || []).find((c) => c.route === base);
    if (child) {
      const crumbs = [item.label, child.label];
      if (route === "missions/new") crumbs.push(t("Add"));
      if (route === "missions/:id") crumbs.push(t("Detail"));
      return crumbs;
    }
  }
  return [];
}

function menuLink(item, current) {
  const active = current.split("/")[0] === item.route;
  return h("a", { href: `#/${item.route}`, class: active ? "active" : "", "aria-current": active ? "page" : false }, item.label);
}

function frame(route) {
  const crumbs = trail(route);
  const menu = h(
    "nav",
    { class: "sidebar", "aria-label": t("Main menu") },
    h("div", { class: "brand" }, h("img", { src: "favicon.svg", alt: "", width: "28", height: "28" }), h("span", {}, "CloudSMS")),
    h(
      "ul",
      {},
      menuItems().map((item) =>
        item.children
          ? h("li", { class: "group" }, h("span", { class: "group-label" }, item.label), h("ul", {}, item.children.map((c) => h("li", {}, menuLink(c, route)))))
          : h("li", {}, menuLink(item, route)),
      ),
    ),
  );
  const header = h(
    "header",
    { class: "topbar" },
    h("nav", { "aria-label": t("Breadcrumb"), class: "breadcrumb" }, h("ol", {}, crumbs.map((c) => h("li", {}, c)))),
    h(
      "div",
      { class: "account" },
      languageMenu(),
      h("span", { class: "tenant-name" }, session.account()?.account_name || (account ? account.name : "")),
      session.account() ? h("button", { type: "button", class: "btn btn-link", onclick: () => showPasswordChange(false) }, t("Change password")) : null,
      h("button", { type: "button", class: "btn btn-link", onclick: logout }, t("Log out")),
    ),
  );
  const main = h("main", { id: "main", tabindex: "-1" });
  const footer = h(
    "footer",
    { class: "page-footer" },
    feedbackLink() ? h("a", { href: feedbackLink(), target: "_blank", rel: "noopener" }, t("Feedback")) : null,
  );
  root.replaceChildren(
    h("a", { href: "#main", class: "skip-link", onclick: (e) => { e.preventDefault(); main.focus(); } }, t("Skip to content")),
    h("div", { class: "layout" }, menu, h("div", { class: "content" }, header, h("div", { id: "notices", class: "notices" }), main, footer)),
  );
  // The page's crumbs after its menu group, the last first: a tab (or a screen reader's
  // list of windows) says "Add · Bulk Dispatching Tool", not a bare "Add" or "Detail".
  const named = (crumbs.length > 1 ? crumbs.slice(1) : crumbs).reverse();
  document.title = t("{page} · CloudSMS Portal", { page: named.join(" · ") || t("Portal") });
  showFlashes();
  return main;
}

async function showRoute() {
  if (!session.key() || !account) return showLogin();
  if (session.account()?.must_change_password) return showPasswordChange(true);
  const { route, params, query } = parseHash();
  const main = frame(route);
  root.setAttribute("aria-busy", "true");
  try {
    const page = await PAGES[route]();
    await page.render({ main, params, query, account, navigate, refreshAccount });
  } catch (error) {
    if (error instanceof ApiError && error.status === 401) return;
    main.append(h("div", { class: "notice notice-error", role: "alert" }, error.message || String(error)));
  } finally {
    root.setAttribute("aria-busy", "false");
    // The frame is drawn anew, and the menu link that was followed with it: the focus
    // goes to the new page (unless the page gave it to a field of its own), so that the
    // next Tab is in it and a screen reader reads it, not the top of the document.
    if (main.isConnected && (!document.activeElement || document.activeElement === document.body)) main.focus();
  }
}

async function refreshAccount() {
  account = await call("GET", "/v1/overview");
  return account;
}

// How the last log-in was made: the page comes back the same way after a log-out.
let loginMode = "account";

function loginCard(title, error, ...children) {
  return h(
    "form",
    { class: "login-card", "aria-labelledby": "login-title" },
    h("div", { class: "login-language" }, languageMenu()),
    h("div", { class: "brand brand-large" }, h("img", { src: "favicon.svg", alt: "", width: "40", height: "40" }), h("span", {}, "CloudSMS")),
    h("h1", { id: "login-title" }, title),
    error,
    ...children,
    feedbackLink() ? h("div", { class: "login-links" }, h("a", { href: feedbackLink(), target: "_blank", rel: "noopener" }, t("Feedback"))) : null,
  );
}

function showCard(form, focus) {
  root.replaceChildren(h("main", { class: "login" }, form));
  root.setAttribute("aria-busy", "false");
  focus.focus();
}

function failed(error, text) {
  error.replaceChildren(h("div", { class: "notice notice-error", role: "alert" }, text));
}

function switchLink(label, mode) {
  return h("button", { type: "button", class: "btn btn-link", onclick: () => { loginMode = mode; showLogin(); } }, label);
}

function showLogin(message = "") {
  document.title = t("Log in · CloudSMS Portal");
  const error = h("div", { class: "login-error" });
  if (message) failed(error, message);
  if (loginMode === "key") return showKeyLogin(error);
  return showAccountLogin(error);
}

/** The guide's log-in: account name, password and the verify code on the image. */
function showAccountLogin(error) {
  const name = h("input", { type: "text", id: "account-name", name: "account-name", autocomplete: "username", required: true, maxlength: 30, spellcheck: "false" });
  const password = h("input", { type: "password", id: "password", name: "password", autocomplete: "current-password", required: true });
  const code = h("input", { type: "text", id: "verify-code", name: "verify-code", autocomplete: "off", required: true, maxlength: 8, spellcheck: "false" });
  const image = h("img", { alt: t("Verify code image"), width: "180", height: "60" });
  let captchaId = "";
  const newCaptcha = async () => {
    code.value = "";
    try {
      const captcha = await call("POST", "/v1/captchas", { open: true });
      captchaId = captcha.captcha_id;
      image.src = captcha.image;
    } catch (failure) {
      failed(error, failure.message);
    }
  };
  const refresh = h("button", { type: "button", class: "captcha", title: t("Another verify code"), "aria-label": t("Another verify code"), onclick: newCaptcha }, image);
  const submit = h("button", { type: "submit", class: "btn btn-primary btn-block" }, t("Log in"));
  const reset = h("p", { class: "hint", hidden: true }, t("Passwords are reset by your operator: ask them for a temporary password, which you change when you log in with it."));
  const form = loginCard(
    t("Log in to the portal"),
    error,
    h("label", { for: "account-name" }, t("Account Name")),
    name,
    h("label", { for: "password" }, t("Password")),
    password,
    h("label", { for: "verify-code" }, t("Verify Code")),
    h("div", { class: "captcha-row" }, code, refresh),
    h("div", { class: "login-links" }, h("button", { type: "button", class: "btn btn-link", onclick: () => { reset.hidden = !reset.hidden; } }, t("Reset Password"))),
    reset,
    submit,
    h("div", { class: "login-links" }, switchLink(t("Log in with an API key"), "key")),
  );
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    submit.disabled = true;
    error.replaceChildren();
    try {
      const answer = await call("POST", "/v1/sessions", {
        json: { account_name: name.value.trim(), password: password.value, captcha_id: captchaId, captcha: code.value.trim() },
        open: true,
      });
      session.store(answer.token, answer.account);
      // A temporary password's session may only change it: nothing else is read first.
      if (answer.account.must_change_password) return showPasswordChange(true);
      account = await call("GET", "/v1/overview");
      await showRoute();
    } catch (failure) {
      // One verify code buys one try, so there is a new one whatever went wrong. The
      // API's 400 ("bad_request") is the verify code's; only a 401 says the name or the
      // password is wrong, so only then is the password typed again.
      const wrongCode = failure.code === "bad_request";
      failed(error, wrongCode ? t("The verify code is wrong or has expired: enter the code on the new image.") : failure.message);
      submit.disabled = false;
      if (failure.status === 401) password.value = "";
      await newCaptcha();
      (failure.status === 401 ? password : code).focus();
    }
  });
  showCard(form, name);
  newCaptcha();
}

function showKeyLogin(error) {
  const keyInput = h("input", { type: "password", id: "api-key", name: "api-key", autocomplete: "off", required: true, spellcheck: "false" });
  const submit = h("button", { type: "submit", class: "btn btn-primary btn-block" }, t("Log in"));
  const form = loginCard(
    t("Log in to the portal"),
    error,
    h("label", { for: "api-key" }, t("API key")),
    keyInput,
    h("p", { class: "hint" }, t("The key your operator issued (it starts with csk_). It is kept only in this browser tab.")),
    submit,
    h("div", { class: "login-links" }, switchLink(t("Log in with an account"), "account")),
  );
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    const key = keyInput.value.trim();
    submit.disabled = true;
    error.replaceChildren();
    try {
      account = await call("GET", "/v1/overview", { key });
      session.store(key);
      await showRoute();
    } catch (failure) {
      failed(error, failure.status === 401 ? t("This API key was not accepted. Check it and try again.") : failure.message);
      submit.disabled = false;
      keyInput.focus();
    }
  });
  showCard(form, keyInput);
}

/** A new password: required after a log-in with a temporary one, or asked for. */
function showPasswordChange(required) {
  document.title = t("Change password · CloudSMS Portal");
  const error = h("div", { class: "login-error" });
  const current = h("input", { type: "password", id: "current-password", autocomplete: "current-password", required: true });
  const fresh = h("input", { type: "password", id: "new-password", autocomplete: "new-password", required: true });
  const again = h("input", { type: "password", id: "confirm-password", autocomplete: "new-password", required: true });
  const submit = h("button", { type: "submit", class: "btn btn-primary btn-block" }, t("Change password"));
  const leave = required
    ? h("button", { type: "button", class: "btn btn-link", onclick: logout }, t("Log out"))
    : h("button", { type: "button", class: "btn btn-link", onclick: showRoute }, t("Cancel"));
  const form = loginCard(
    t("Change your password"),
    error,
    required ? h("p", { class: "hint" }, t("You logged in with a temporary password: choose your own to go on.")) : null,
    h("label", { for: "current-password" }, t("Current password")),
    current,
    h("label", { for: "new-password" }, t("New password")),
    fresh,
    h("p", { class: "hint" }, t("8 to 64 characters, with a letter and a digit, not containing the account name.")),
    h("label", { for: "confirm-password" }, t("New password again")),
    again,
    submit,
    h("div", { class: "login-links" }, leave),
  );
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    error.replaceChildren();
    if (fresh.value !== again.value) return failed(error, t("The two new passwords differ."));
    submit.disabled = true;
    try {
      // The change ends every session of the account and answers a new one.
      const answer = await call("POST", "/v1/account/password", { json: { current_password: current.value, new_password: fresh.value } });
      session.store(answer.token, answer.account);
      account = await call("GET", "/v1/overview");
      flash("success", t("Your password is changed."));
      await showRoute();
    } catch (failure) {
      failed(error, failure.message);
      submit.disabled = false;
    }
  });
  showCard(form, current);
}

function logout() {
  // A session ends on the server too; an API key stays valid until the operator revokes it.
  if (session.account()) call("DELETE", "/v1/sessions/current").catch(() => {});
  session.clear();
  account = null;
  clearNotices();
  showLogin();
}

window.addEventListener("cloudsms:unauthorized", () => {
  session.clear();
  account = null;
  showLogin(t("Your session has ended: log in again."));
});
window.addEventListener("hashchange", showRoute);
// An action that redraws what had the focus (a row removed after its confirmation, a
// detail closed) would drop the focus to the document, and the next Tab to the top of the
// page and the menu: it goes to the page's main area instead, where the action was.
document.addEventListener("focusout", (event) => {
  const left = event.target;
  if (event.relatedTarget || !(left instanceof Element) || !left.closest("main")) return;
  setTimeout(() => {
    const lost = !document.activeElement || document.activeElement === document.body;
    if (lost && !left.isConnected) document.getElementById("main")?.focus();
  });
});

async function start() {
  await loadConfig();
  // Reloaded before the temporary password was changed: that comes first still.
  if (session.key() && session.account()?.must_change_password) return showPasswordChange(true);
  if (session.key()) {
    try {
      await refreshAccount();
    } catch (error) {
      if (error.status !== 401) return showLogin(error.message);
    }
  }
  await showRoute();
}

start();
