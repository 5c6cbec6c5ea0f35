// Platform Audit Trail (the operator's): who changed what, every tenant's and the
// platform's, newest first (GET /v1/admin/audit): the changes made through the API and
// with the `cloudsms` command, searched by a tenant and dates. Audit Trail's list.

import { get } from "../api.js";
import { t } from "../i18n.js";
import { h, uniqueId } from "../ui.js";
import { auditList } from "./audit.js";

export async function render({ main, account, query }) {
  // A tenant's id typed or picked from those offered; none: every tenant's changes.
  const choices = h("datalist", { id: uniqueId("tenant-ids") });
  const tenant = h("input", { type: "text", name: "tenant", value: query.tenant || "", placeholder: t("All"), spellcheck: "false", autocomplete: "off", list: choices.id });
  get("/v1/admin/tenants")
    .then(({ tenants }) => choices.replaceChildren(...tenants.map((one) => h("option", { value: one.tenant_id, label: one.name }))))
    .catch(() => {});
  const list = auditList("/v1/admin/audit", account.time_zone, { tenant });
  main.append(
    h("h1", {}, t("Platform Audit Trail")),
    h(
      "section",
      { class: "panel", "aria-label": t("Audit trail") },
      h(
        "p",
        { class: "hint" },
        t("Every configuration change made through the API or with the cloudsms command, of every tenant: the Tenant ID is the tenant it concerns, none for a command that names no tenant (channel-add, say). Only the names of the fields or options a change gave are kept, never their values. Sending is not recorded."),
      ),
      list.element,
      choices,
    ),
  );
  await list.search();
}
