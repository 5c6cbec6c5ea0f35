// The portal's only way to the platform: the public Web API, with the tenant's API key.
//
// The key lives in sessionStorage: it is gone when the tab closes, and it is never sent
// anywhere but the API. The API's base URL comes from config.json; empty means the
// origin that served the portal (the local stack serves both).

import { t } from "./i18n.js";

const KEY_ITEM = "cloudsms.apiKey";
let baseUrl = "";
// Where the guide's "Feedback" link leads (a mailto: or a help desk's page); none: no link.
let feedbackUrl = "";

export class ApiError extends Error {
  constructor(status, code, message, details = []) {
    super(message);
    this.status = status;
    this.code = code;
    this.details = details;
  }
}

const ACCOUNT_ITEM = "cloudsms.account";
const TENANT_ITEM = "cloudsms.operatorTenant";

// What the tab holds: an API key, or a session token from an account's log-in (which
// works as a key until it expires) and that account; with an operator key, the tenant
// its pages show.
export const session = {
  key: () => sessionStorage.getItem(KEY_ITEM),
  store: (key, account = null) => {
    sessionStorage.setItem(KEY_ITEM, key);
    if (account) sessionStorage.setItem(ACCOUNT_ITEM, JSON.stringify(account));
    else sessionStorage.removeItem(ACCOUNT_ITEM);
  },
  account: () => JSON.parse(sessionStorage.getItem(ACCOUNT_ITEM) || "null"),
  tenant: () => sessionStorage.getItem(TENANT_ITEM),
  storeTenant: (tenant) => {
    if (tenant) sessionStorage.setItem(TENANT_ITEM, tenant);
    else sessionStorage.removeItem(TENANT_ITEM);
  },
  clear: () => {
    sessionStorage.removeItem(KEY_ITEM);
    sessionStorage.removeItem(ACCOUNT_ITEM);
    sessionStorage.removeItem(TENANT_ITEM);
  },
};

export async function loadConfig() {
  try {
    const response = await fetch("config.json", { cache: "no-store" });
    if (response.ok) {
      const config = await response.json();
      baseUrl = (config.api_base_url || "").replace(/\/$/, "");
      feedbackUrl = config.feedback_url || "";
    }
  } catch {
    baseUrl = "";
  }
}

export function feedbackLink() {
  return feedbackUrl;
}

/** The API's base URL as a tenant's application would call it. */
export function apiBaseUrl() {
  return baseUrl || window.location.origin;
}

function url(path, query) {
  const target = new URL(apiBaseUrl() + path);
  for (const [name, value] of Object.entries(query || {})) {
    if (value !== undefined && value !== null && value !== "") target.searchParams.set(name, value);
  }
  return target;
}

async function failure(response) {
  let body = null;
  try {
    body = await response.json();
  } catch {
    body = null;
  }
  const error = body && body.error;
  if (error) return new ApiError(response.status, error.code, error.message, error.details || []);
  return new ApiError(response.status, "http_error", t("The API answered {status}.", { status: response.status }));
}

/**
 * One call to the API. `json` sends a JSON body, `form` a FormData (multipart); `raw`
 * returns the Response itself (for files); `headers` are sent besides the key. A 401
 * ends the session: the portal's app listens for "cloudsms:unauthorized" and shows the
 * login page again.
 */
export async function call(method, path, { query, json, form, raw = false, accept, key, open = false, headers: extra = {} } = {}) {
  // `open`: a call of the log-in page, which takes no key (and whose 401 ends no session).
  const headers = { ...extra, ...(open ? {} : { Authorization: `Bearer ${key || session.key() || ""}` }) };
  let body;
  if (json !== undefined) {
    headers["Content-Type"] = "application/json";
    body = JSON.stringify(json);
  } else if (form !== undefined) {
    body = form;
  }
  if (accept) headers.Accept = accept;
  let response;
  try {
    response = await fetch(url(path, query), { method, headers, body });
  } catch {
    throw new ApiError(0, "network", t("The API cannot be reached. Check your connection."));
  }
  if (!response.ok) {
    const error = await failure(response);
    if (response.status === 401 && !key && !open) window.dispatchEvent(new CustomEvent("cloudsms:unauthorized"));
    throw error;
  }
  if (raw) return response;
  if (response.status === 204) return null;
  return response.json();
}

export const get = (path, query) => call("GET", path, { query });
