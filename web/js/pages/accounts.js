// Accounts (the operator's): a tenant's portal accounts, the guide's "Add Account" form,
// and for each account a password reset, disable and enable.

import { call, get } from "../api.js";
import { button, clearNotices, confirmDialog, field, fixedValue, formatTime, h, notify, pagedRows, panel, showError, statusBadge, table, tenantPicker, zoneLabel } from "../ui.js";

function accountStatus(a) {
  if (a.disabled) return statusBadge("disabled", "Disabled");
  if (a.locked_until && new Date(a.locked_until) > new Date()) return statusBadge("locked", "Locked");
  return statusBadge("enabled", "Enabled");
}

export async function render({ main, account, query, navigate }) {
  const zone = account.time_zone;
  const picker = tenantPicker("accounts", query, navigate);
  main.append(h("h1", {}, "Accounts"), h("section", { class: "panel", "aria-label": "Tenant" }, picker.form, picker.errors));
  if (!picker.tenant) {
    main.append(h("p", { class: "hint" }, "Enter a tenant's ID to list its portal accounts and add one."));
    return;
  }
  const tenant = picker.tenant;
  const path = (name, action) => `/v1/admin/accounts/${encodeURIComponent(name)}/${action}`;

  // A temporary password is answered once: it stays here until "Done", never again.
  const issued = h("div", {});
  function showPassword(message, answer) {
    const done = button("Done", () => issued.replaceChildren());
    clearNotices();
    issued.replaceChildren(
      panel(
        "Temporary password",
        h(
          "div",
          { class: "notice notice-success", role: "status" },
          h("span", {}, `${message}. Temporary password of ${answer.account.account_name}: `, h("code", { class: "secret" }, answer.password)),
        ),
        h("p", { class: "hint" }, "Note it now: it will not be shown again. Give it to the account's user, who must change it at the first log-in."),
        h("div", { class: "page-actions" }, done),
      ),
    );
    done.focus();
  }

  const rows = h("div", {});
  const pagerArea = h("div", {});
  async function load() {
    const { accounts } = await get(`/v1/admin/tenants/${encodeURIComponent(tenant)}/accounts`);
    const pager = pagedRows(accounts, accountTable);
    pagerArea.replaceChildren(pager.element);
    await pager.first();
  }
  const accountTable = (shown, offset) =>
    rows.replaceChildren(
      table(
        `Portal accounts of ${tenant}`,
        [
          { label: "Seq No.", cell: (_, i) => i + 1 },
          { label: "Account Name", cell: (a) => a.account_name },
          { label: "Account Type", cell: () => "Tenant" },
          { label: "Tenant", cell: (a) => a.tenant_id },
          { label: "Account Role", cell: (a) => a.role_label },
          { label: "Status", cell: accountStatus },
          { label: "Password", cell: (a) => (a.must_change_password ? "Temporary" : "Changed") },
          { label: "Created", cell: (a) => formatTime(a.created_at, zone), class: "nowrap" },
          { label: "Operation", cell: operations },
        ],
        shown,
        { empty: "This tenant has no portal account yet.", offset },
      ),
    );

  function operations(a) {
    const name = a.account_name;
    return h(
      "div",
      { class: "row-actions" },
      button("Reset Password", () => resetPassword(name), { kind: "link", "aria-label": `Reset the password of ${name}` }),
      a.disabled
        ? button("Enable", () => enable(name), { kind: "link", "aria-label": `Enable ${name}` })
        : button("Disable", () => disable(name), { kind: "link danger", "aria-label": `Disable ${name}` }),
    );
  }

  async function resetPassword(name) {
    const sure = await confirmDialog(
      `Reset the password of ${name}?`,
      "A new temporary password replaces the account's password: its sessions end, and it must choose a new password at its next log-in.",
      "Reset Password",
    );
    if (!sure) return;
    try {
      const answer = await call("POST", path(name, "password-reset"));
      showPassword("Password reset", answer);
      await load();
    } catch (error) {
      notify("error", error.message, error.details);
    }
  }

  async function disable(name) {
    const sure = await confirmDialog(`Disable ${name}?`, `${name} can no longer log in, and its sessions end, until it is enabled again.`, "Disable");
    if (!sure) return;
    try {
      await call("POST", path(name, "disable"));
      notify("success", `${name} is disabled.`);
      await load();
    } catch (error) {
      notify("error", error.message, error.details);
    }
  }

  async function enable(name) {
    try {
      await call("POST", path(name, "enable"));
      notify("success", `${name} is enabled: it can log in again.`);
      await load();
    } catch (error) {
      notify("error", error.message, error.details);
    }
  }

  // The guide's "Add Account": the type and the role are the only ones there are.
  const name = h("input", { type: "text", name: "account_name", required: true, maxlength: 30, spellcheck: "false", autocomplete: "off" });
  const addErrors = h("div", {});
  const addForm = h(
    "form",
    { "aria-label": "Add Account" },
    field("Account Name", name, {
      required: true,
      hint: "3 to 30 letters, digits, _, . or -, starting with a letter or digit; unique across tenants, as people log in by name alone.",
    }),
    field("Account Type", fixedValue("Tenant"), { required: true }),
    field("Tenant", fixedValue(tenant), { required: true }),
    field("Account Role", fixedValue("Tenant Manager"), { required: true, hint: "A tenant manager sees and does everything of its tenant in the portal." }),
    addErrors,
    h("div", { class: "form-actions" }, button("Add", null, { kind: "primary", type: "submit" })),
  );
  addForm.addEventListener("submit", async (event) => {
    event.preventDefault();
    try {
      const answer = await call("POST", "/v1/admin/accounts", {
        json: { account_name: name.value.trim(), tenant_id: tenant, account_type: "tenant", role: "tenant_manager" },
      });
      addErrors.replaceChildren();
      addForm.reset();
      showPassword(`Account ${answer.account.account_name} added`, answer);
      await load();
    } catch (error) {
      showError(addErrors, error);
    }
  });

  try {
    await load();
  } catch (error) {
    // A tenant that does not exist (404): said beside the tenant's id, nothing else shown.
    showError(picker.errors, error);
    return;
  }
  main.append(
    issued,
    // The operator's own time zone, which need not be the tenant's.
    h("section", { class: "panel", "aria-label": "Accounts" }, h("p", { class: "hint" }, `Times are in ${zone} (${zoneLabel(zone)}).`), rows, pagerArea),
    panel("Add Account", addForm),
  );
}
