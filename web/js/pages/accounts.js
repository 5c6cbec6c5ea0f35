// Accounts (the operator's): a tenant's portal accounts, the guide's "Add Account" form,
// and for each account a password reset, disable and enable.

import { call, get } from "../api.js";
import { t } from "../i18n.js";
import { button, clearNotices, confirmDialog, field, fixedValue, formatTime, h, notify, onSubmit, pagedRows, panel, showError, statusBadge, table, tenantPicker, uniqueId, zoneLabel } from "../ui.js";

// The API's role_label is English: the portal says the roles it knows in its own words.
const ROLES = { tenant_manager: t("Tenant Manager") };

function accountStatus(a) {
  if (a.disabled) return statusBadge("disabled", t("Disabled"));
  if (a.locked_until && new Date(a.locked_until) > new Date()) return statusBadge("locked", t("Locked"));
  return statusBadge("enabled", t("Enabled"));
}

export async function render({ main, account, query, navigate }) {
  const zone = account.time_zone;
  const picker = tenantPicker("accounts", query, navigate);
  main.append(h("h1", {}, t("Accounts")), h("section", { class: "panel", "aria-label": t("Tenant") }, picker.form, picker.errors));
  if (!picker.tenant) {
    main.append(h("p", { class: "hint" }, t("Enter a tenant's ID to list its portal accounts and add one.")));
    return;
  }
  const tenant = picker.tenant;
  const path = (name, action) => `/v1/admin/accounts/${encodeURIComponent(name)}/${action}`;

  // A temporary password is answered once: it stays here until "Done", never again.
  const issued = h("div", {});
  function showPassword(message, answer) {
    // Done takes the focus, and a screen reader reads it with the password and the warning
    // (its description): on its own, "Done" would be pressed before the password is heard.
    const said = uniqueId("password");
    const warned = uniqueId("password-note");
    const done = button(t("Done"), () => issued.replaceChildren(), { "aria-describedby": `${said} ${warned}` });
    clearNotices();
    issued.replaceChildren(
      panel(
        t("Temporary password"),
        h(
          "div",
          { class: "notice notice-success", role: "status", id: said },
          h(
            "span",
            {},
            t("{message}. Temporary password of {name}: ", { message, name: answer.account.account_name }),
            h("code", { class: "secret" }, answer.password),
          ),
        ),
        h("p", { class: "hint", id: warned }, t("Note it now: it will not be shown again. Give it to the account's user, who must change it at the first log-in.")),
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
        t("Portal accounts of {tenant}", { tenant }),
        [
          { label: t("Seq No."), cell: (_, i) => i + 1 },
          { label: t("Account Name"), cell: (a) => a.account_name },
          { label: t("Account Type"), cell: () => t("Tenant") },
          { label: t("Tenant"), cell: (a) => a.tenant_id },
          { label: t("Account Role"), cell: (a) => ROLES[a.role] || a.role_label },
          { label: t("Status"), cell: accountStatus },
          { label: t("Password"), cell: (a) => (a.must_change_password ? t("Temporary") : t("Changed")) },
          { label: t("Created"), cell: (a) => formatTime(a.created_at, zone), class: "nowrap" },
          { label: t("Operation"), cell: operations },
        ],
        shown,
        { empty: t("This tenant has no portal account yet."), offset },
      ),
    );

  function operations(a) {
    const name = a.account_name;
    return h(
      "div",
      { class: "row-actions" },
      button(t("Reset Password"), () => resetPassword(name), { kind: "link", "aria-label": t("Reset the password of {name}", { name }) }),
      a.disabled
        ? button(t("Enable"), () => enable(name), { kind: "link", "aria-label": t("Enable {name}", { name }) })
        : button(t("Disable"), () => disable(name), { kind: "link danger", "aria-label": t("Disable {name}", { name }) }),
    );
  }

  async function resetPassword(name) {
    const sure = await confirmDialog(
      t("Reset the password of {name}?", { name }),
      t("A new temporary password replaces the account's password: its sessions end, and it must choose a new password at its next log-in."),
      t("Reset Password"),
    );
    if (!sure) return;
    try {
      const answer = await call("POST", path(name, "password-reset"));
      showPassword(t("Password reset"), answer);
      await load();
    } catch (error) {
      notify("error", error.message, error.details);
    }
  }

  async function disable(name) {
    const sure = await confirmDialog(
      t("Disable {name}?", { name }),
      t("{name} can no longer log in, and its sessions end, until it is enabled again.", { name }),
      t("Disable"),
    );
    if (!sure) return;
    try {
      await call("POST", path(name, "disable"));
      notify("success", t("{name} is disabled.", { name }));
      await load();
    } catch (error) {
      notify("error", error.message, error.details);
    }
  }

  async function enable(name) {
    try {
      await call("POST", path(name, "enable"));
      notify("success", t("{name} is enabled: it can log in again.", { name }));
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
    { "aria-label": t("Add Account") },
    field(t("Account Name"), name, {
      required: true,
      hint: t("3 to 30 letters, digits, _, . or -, starting with a letter or digit; unique across tenants, as people log in by name alone."),
    }),
    field(t("Account Type"), fixedValue(t("Tenant")), { required: true }),
    field(t("Tenant"), fixedValue(tenant), { required: true }),
    field(t("Account Role"), fixedValue(ROLES.tenant_manager), { required: true, hint: t("A tenant manager sees and does everything of its tenant in the portal.") }),
    addErrors,
    h("div", { class: "form-actions" }, button(t("Add"), null, { kind: "primary", type: "submit" })),
  );
  onSubmit(addForm, async () => {
    try {
      const answer = await call("POST", "/v1/admin/accounts", {
        json: { account_name: name.value.trim(), tenant_id: tenant, account_type: "tenant", role: "tenant_manager" },
      });
      addErrors.replaceChildren();
      addForm.reset();
      showPassword(t("Account {name} added", { name: answer.account.account_name }), answer);
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
    h("section", { class: "panel", "aria-label": t("Accounts") }, h("p", { class: "hint" }, t("Times are in {zone} ({offset}).", { zone, offset: zoneLabel(zone) })), rows, pagerArea),
    panel(t("Add Account"), addForm),
  );
}
