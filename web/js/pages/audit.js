// Audit Trail: who changed this tenant's configuration, what and when (GET /v1/audit),
// newest first: its own changes made with the portal or the API, and the operator's to
// it. The list and its date filters are the operator's Platform Audit Trail's too
// (platform-audit.js), there of every tenant. An entry names the fields a change gave,
// never their values; sending is not in it (README.md "Audit trail").

import { get } from "../api.js";
import { t } from "../i18n.js";
import { Pager, field, filterForm, formatTime, h, notify, table, zoneLabel, zonedTime } from "../ui.js";

// The API's roles of a key; a command's entry has none.
// A session opened with a temporary password (role password_change) is a tenant's account.
const ROLES = { tenant: t("Tenant"), password_change: t("Tenant"), operator: t("Operator|role") };
const listed = (values) => values.join(t(", "));
const shown = (value) => value || "-";

/** Who made the change: a key's id, a portal account's name or a command's AWS caller,
 * and the key's role. */
function who(entry) {
  // A tenant's own trail says only that the operator made a change (the API's "operator"),
  // not who at the operator. The role decides: an account may be named "operator" too.
  if (entry.actor === "operator" && entry.role === "operator") return ROLES.operator;
  return [entry.actor, entry.role ? h("div", { class: "muted" }, ROLES[entry.role] || entry.role) : null];
}

/** What the change named: a route's path parameters, or a command's arguments. */
function target(entry) {
  const named = Object.entries(entry.target);
  return named.length ? named.map(([name, value]) => h("div", {}, `${name}: ${value}`)) : "-";
}

function auditTable(items, offset, zone, { tenants, empty }) {
  return table(
    t("Audit trail"),
    [
      { label: t("Seq No."), cell: (_, i) => i + 1 },
      { label: t("Time"), cell: (e) => formatTime(e.at, zone), class: "nowrap" },
      { label: t("Changed by"), cell: who },
      tenants && { label: t("Tenant ID"), cell: (e) => shown(e.tenant_id) },
      { label: t("Action"), cell: (e) => h("code", {}, e.action) },
      { label: t("Target"), cell: target },
      { label: t("Fields Changed"), cell: (e) => listed(e.fields) || "-" },
      { label: t("Source IP"), cell: (e) => shown(e.source_ip) },
    ].filter(Boolean),
    items,
    // Compact, as the Dispatching Log: the operator's eight columns fit the window.
    { offset, empty, compact: true },
  );
}

/**
 * The audit trail at `path`, newest first, searched by dates in `zone` (and, with
 * `tenant`, a tenant's id field: the operator's), with the pager. `element` is its
 * filters, rows and pager; `search()` shows the first page of what the filters say.
 */
export function auditList(path, zone, { tenant = null } = {}) {
  const from = h("input", { type: "date", name: "from" });
  const to = h("input", { type: "date", name: "to" });
  const results = h("div", {});
  // The filters of the last search: Next and Go to keep to them (the API's cursor is that
  // search's), whatever is typed since.
  let searched = {};
  const pager = new Pager(
    (cursor) => get(path, { ...searched, cursor }),
    (items, offset) => {
      const filtered = Object.values(searched).some(Boolean);
      const empty = filtered ? t("No change matches the search.") : t("No change recorded yet.");
      results.replaceChildren(auditTable(items, offset, zone, { tenants: Boolean(tenant), empty }));
    },
  );

  async function search() {
    // Rows of an earlier search would read as this one's.
    const refused = (message, details) => {
      results.replaceChildren();
      pager.element.replaceChildren();
      notify("error", message, details);
    };
    if (from.value && to.value && from.value > to.value) return refused(t("The first date is after the last one."));
    // The dates are the tenant's zone's, whole days; the API reads a time without an
    // offset as UTC, so each is sent with the zone's offset on that day.
    searched = {
      tenant: tenant ? tenant.value.trim() : "",
      from: from.value ? zonedTime(from.value, "00:00:00", zone) : "",
      to: to.value ? zonedTime(to.value, "23:59:59.999999", zone, { last: true }) : "",
    };
    try {
      await pager.first();
    } catch (error) {
      refused(error.message, error.details);
    }
  }

  const fields = [tenant ? field(t("Tenant ID"), tenant) : null, field(t("Date from"), from), field(t("to"), to)];
  const form = filterForm(t("Search the audit trail"), fields.filter(Boolean), search);
  const element = h(
    "div",
    {},
    h("p", { class: "hint" }, t("Dates and times are in {zone} ({offset}).", { zone, offset: zoneLabel(zone) })),
    form,
    results,
    pager.element,
  );
  return { element, search };
}

export async function render({ main, account }) {
  const list = auditList("/v1/audit", account.time_zone);
  main.append(
    h("h1", {}, t("Audit Trail")),
    h(
      "section",
      { class: "panel", "aria-label": t("Audit trail") },
      h(
        "p",
        { class: "hint" },
        t("Who changed your configuration, and when: the changes made with the portal or the API (templates, black list, status callback, a mission cancelled or moved, a password), and your operator's changes for you (business channels, sender ids, countries, request limit, orders, portal accounts). Only the names of the fields a change gave are kept, never their values. Sending is not listed here: see the Dispatching Log."),
      ),
      list.element,
    ),
  );
  await list.search();
}
