// Tenants (the operator's): every tenant, and for the one chosen its business channels
// (Grant, Revoke), its registered sender ids and its last 7 days' usage, as the
// `cloudsms` command's tenant-list, tenant-sender-ids and tenant-usage show them.
// Creating, disabling and enabling a tenant and issuing its API keys stay with the
// command: a key is shown once, at the console, never in a page.

import { call, get } from "../api.js";
import { t } from "../i18n.js";
import {
  DIRECTIONS,
  button,
  chosenTenant,
  confirmDialog,
  field,
  formatTime,
  h,
  notify,
  onSubmit,
  pagedRows,
  panel,
  showError,
  statusBadge,
  table,
  zoneLabel,
} from "../ui.js";
import { allChannels } from "./channels.js";
import { showExpenses } from "./expenses.js";
import { showStatistics } from "./statistics.js";

const tenantStatus = (tenant) => (tenant.disabled_at ? statusBadge("disabled", t("Disabled")) : statusBadge("enabled", t("Enabled")));
const listed = (values) => values.join(t(", "));

export async function render({ main, account, query }) {
  const zone = account.time_zone;
  const chosen = chosenTenant("tenants", query);
  // Kept as one array: after a change it is refilled, and the pager shows its page again.
  const [answer, channels] = await Promise.all([get("/v1/admin/tenants"), allChannels()]);
  const tenants = answer.tenants;
  const reread = async () => tenants.splice(0, tenants.length, ...(await get("/v1/admin/tenants")).tenants);

  // --- every tenant ---
  // Set with `cloudsms tenant-request-limit` (or the admin API); shown here to be read.
  const requestLimit = (tenant) => {
    const limit = tenant.request_limit;
    if (!limit.requests_per_second) return t("Not limited");
    const shown = t("{rate} a second, bursts of {burst}", { rate: limit.requests_per_second, burst: limit.burst });
    return limit.default ? t("{limit} (default)", { limit: shown }) : shown;
  };
  // Set with `cloudsms tenant-countries` (or the admin API); null: every country.
  const countries = (tenant) => (tenant.countries ? listed(tenant.countries) : t("Every country"));
  const listRows = h("div", {});
  const detailLink = (tenant) =>
    h("a", { href: `#/tenants?tenant=${encodeURIComponent(tenant.tenant_id)}`, "aria-label": t("Detail of {tenant}", { tenant: tenant.tenant_id }) }, t("Detail"));
  const list = pagedRows(tenants, (shown, offset) =>
    listRows.replaceChildren(
      table(
        t("Tenants"),
        [
          { label: t("Seq No."), cell: (_, i) => i + 1 },
          { label: t("Tenant ID"), cell: (tenant) => tenant.tenant_id },
          { label: t("Tenant Name"), cell: (tenant) => tenant.name },
          { label: t("Time zone"), cell: (tenant) => tenant.time_zone },
          { label: t("Business Channels"), cell: (tenant) => listed(tenant.channels) || "-" },
          { label: t("Sender IDs"), cell: (tenant) => listed(tenant.sender_ids) || t("Any") },
          { label: t("Request limit"), cell: requestLimit },
          { label: t("Countries"), cell: countries },
          { label: t("Status"), cell: tenantStatus },
          { label: t("Created"), cell: (tenant) => formatTime(tenant.created_at, zone), class: "nowrap" },
          { label: t("Operation"), cell: detailLink },
        ],
        shown,
        { empty: t("No tenant yet: create one with `cloudsms tenant-create`."), offset },
      ),
    ),
  );

  main.append(
    h("h1", {}, t("Tenants")),
    h(
      "section",
      { class: "panel", "aria-label": t("Tenants") },
      h(
        "p",
        { class: "hint" },
        t("Create, disable and enable a tenant, and issue its API keys, with the cloudsms command (tenant-create, tenant-disable, tenant-enable, key-issue): a key is shown once, at the console."),
      ),
      // The operator's own time zone, which need not be the tenant's.
      h("p", { class: "hint" }, t("Times are in {zone} ({offset}).", { zone, offset: zoneLabel(zone) })),
      listRows,
      list.element,
    ),
  );
  await list.first();
  if (!chosen) {
    main.append(h("p", { class: "hint" }, t("Choose a tenant's Detail to see its business channels, sender ids and usage.")));
    return;
  }
  const tenantOf = () => tenants.find((tenant) => tenant.tenant_id === chosen);
  if (!tenantOf()) {
    main.append(h("div", { class: "notice notice-error", role: "alert" }, t("There is no tenant {tenant}.", { tenant: chosen })));
    return;
  }
  const path = `/v1/admin/tenants/${encodeURIComponent(chosen)}`;

  /** After a change: the tenants again (the list's page too), and the tenant's panels. */
  async function changed(message) {
    await reread();
    await list.show();
    showFacts();
    showChannels();
    notify("success", message);
  }

  // --- the tenant ---
  const facts = h("div", {});
  const showFacts = () => {
    const tenant = tenantOf();
    const item = (term, value) => [h("dt", {}, term), h("dd", {}, value)];
    facts.replaceChildren(
      h(
        "dl",
        { class: "facts" },
        ...item(t("Tenant ID"), tenant.tenant_id),
        ...item(t("Tenant Name"), tenant.name),
        ...item(t("Time zone"), tenant.time_zone),
        ...item(t("Status"), tenantStatus(tenant)),
        ...item(t("Created"), formatTime(tenant.created_at, zone)),
      ),
    );
  };

  // --- its business channels ---
  const byRoute = Object.fromEntries(channels.map((c) => [c.route_id, c]));
  const channelErrors = h("div", {});
  const channelRows = h("div", {});
  const choice = h("select", { name: "route_id", required: true });
  const showChannels = () => {
    const granted = tenantOf().channels;
    channelRows.replaceChildren(
      table(
        t("Business channels of {tenant}", { tenant: chosen }),
        [
          { label: t("Route ID"), cell: (route) => route },
          { label: t("Directions"), cell: (route) => (byRoute[route] ? listed(byRoute[route].directions.map((d) => DIRECTIONS[d] || d)) : "-") },
          {
            label: t("Status"),
            // A channel granted once and no longer there can still be revoked.
            cell: (route) => {
              if (!byRoute[route]) return t("No such channel");
              return byRoute[route].paused ? statusBadge("locked", t("Paused")) : statusBadge("enabled", t("Sending"));
            },
          },
          {
            label: t("Operation"),
            cell: (route) => button(t("Revoke"), () => revoke(route), { kind: "link danger", "aria-label": t("Revoke {route}", { route }) }),
          },
        ],
        granted,
        { empty: t("No business channel: the tenant can send nothing until one is granted.") },
      ),
    );
    const lacking = channels.map((c) => c.route_id).filter((route) => !granted.includes(route));
    choice.replaceChildren(h("option", { value: "" }, t("Choose a channel")), ...lacking.map((route) => h("option", { value: route }, route)));
  };

  async function revoke(route) {
    const sure = await confirmDialog(
      t("Revoke {route} from {tenant}?", { route, tenant: chosen }),
      t("{tenant} can no longer send through {route} until it is granted again.", { route, tenant: chosen }),
      t("Revoke"),
    );
    if (!sure) return;
    try {
      await call("DELETE", `${path}/channels/${encodeURIComponent(route)}`);
      channelErrors.replaceChildren();
      await changed(t("{route} is revoked from {tenant}.", { route, tenant: chosen }));
    } catch (error) {
      showError(channelErrors, error);
    }
  }

  const grantForm = h(
    "form",
    { "aria-label": t("Grant a channel") },
    field(t("Business Channel"), choice, { required: true, hint: t("A channel of the operator's that the tenant lacks. Ordering a package grants its channel too.") }),
    h("div", { class: "form-actions" }, button(t("Grant"), null, { kind: "primary", type: "submit" })),
  );
  onSubmit(grantForm, async () => {
    const route = choice.value;
    try {
      await call("POST", `${path}/channels`, { json: { route_id: route } });
      channelErrors.replaceChildren();
      await changed(t("{route} is granted to {tenant}.", { route, tenant: chosen }));
    } catch (error) {
      showError(channelErrors, error);
    }
  });

  // --- its sender ids ---
  const registered = () => tenantOf().sender_ids;
  const senders = h("textarea", { name: "sender_ids", rows: 4, spellcheck: "false" });
  senders.value = registered().join("\n");
  const senderErrors = h("div", {});
  const senderForm = h(
    "form",
    { "aria-label": t("Sender IDs of {tenant}", { tenant: chosen }) },
    field(t("Sender IDs"), senders, {
      hint: t(
        "One a line: up to 11 letters, digits, spaces and . & _ -, or a number of up to 15 characters; at most 100. With none, the tenant may send as any sender id; with some, a message as another is refused.",
      ),
    }),
    senderErrors,
    h("div", { class: "form-actions" }, button(t("Save"), null, { kind: "primary", type: "submit" })),
  );
  onSubmit(senderForm, async () => {
    // The API takes the list as it is; blank lines and the spaces around a line are not ids.
    const wanted = senders.value.split("\n").map((line) => line.trim()).filter(Boolean);
    if (!wanted.length && registered().length) {
      const sure = await confirmDialog(
        t("Let {tenant} send as any sender id?", { tenant: chosen }),
        t("With no sender id registered, {tenant} may send as any sender id, another enterprise's too.", { tenant: chosen }),
        t("Remove every sender id"),
      );
      if (!sure) return;
    }
    try {
      const saved = await call("PUT", `${path}/sender-ids`, { json: { sender_ids: wanted } });
      senderErrors.replaceChildren();
      senders.value = saved.sender_ids.join("\n");
      await changed(
        saved.sender_ids.length
          ? t("Sender ids of {tenant} saved: {senders}.", { tenant: chosen, senders: listed(saved.sender_ids) })
          : t("{tenant} has no sender id registered: it may send as any.", { tenant: chosen }),
      );
    } catch (error) {
      showError(senderErrors, error);
    }
  });

  showFacts();
  showChannels();
  const detailHeading = h("h2", { id: "tenant-detail" }, t("Tenant {tenant}", { tenant: chosen }));
  const statistics = h("div", {});
  const expenses = h("div", {});
  const usageHint = h("p", { class: "hint" });
  main.append(
    h("section", { class: "panel", "aria-labelledby": "tenant-detail" }, detailHeading, facts),
    panel(t("Business Channels"), channelRows, channelErrors, grantForm),
    panel(t("Sender IDs"), senderForm),
    panel(
      t("Usage in the last 7 days"),
      usageHint,
      h("h3", {}, t("SMS Delivery Statistics")),
      statistics,
      h("h3", {}, t("Expense Statistics")),
      expenses,
    ),
  );
  detailHeading.scrollIntoView();

  // Without dates the API answers the tenant's last 7 days, in its own time zone.
  const [days, costs] = await Promise.all([get(`${path}/statistics`), get(`${path}/statistics/expenses`)]);
  usageHint.textContent = t("Dates are dispatching dates in the tenant's time zone, {zone} ({offset}).", {
    zone: days.time_zone,
    offset: zoneLabel(days.time_zone),
  });
  await Promise.all([showStatistics(statistics, days, { logLinks: false }), showExpenses(expenses, costs)]);
}
