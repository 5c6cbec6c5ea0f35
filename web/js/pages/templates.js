// SMS / SMS Template: reusable contents. Use one in the Add form, edit or delete it.

import { call, get } from "../api.js";
import { analyse, describe, variables } from "../sms.js";
import {
  Pager,
  SMS_TYPES,
  button,
  confirmDialog,
  counted,
  field,
  formatTime,
  h,
  notify,
  panel,
  radios,
  showError,
  table,
} from "../ui.js";

// A template's columns, here and in the Add form's Default Template dialog.
export const TEMPLATE_COLUMNS = [
  { label: "Seq No.", cell: (_, i) => i + 1 },
  { label: "Template Name", cell: (t) => t.name },
  { label: "SMS Type", cell: (t) => SMS_TYPES[t.sms_type] || t.sms_type },
  { label: "SMS Content", cell: (t) => t.content, class: "text" },
  { label: "Variables", cell: (t) => t.variables.join(", ") || "-" },
];

const CONTENT_MAX = 1500;

export async function render({ main, account, navigate }) {
  const zone = account.time_zone;
  const results = h("div", {});
  const commonResults = h("div", {});
  const commonPager = new Pager(
    (cursor) => get("/v1/templates/common", { cursor }),
    (items, offset) => commonResults.replaceChildren(commonTable(items, offset)),
  );
  const editorArea = h("div", {});
  const pager = new Pager(
    (cursor) => get("/v1/templates", { cursor }),
    (items, offset) => results.replaceChildren(templateTable(items, offset)),
  );

  function templateTable(items, offset) {
    return table(
      "SMS templates",
      [
        ...TEMPLATE_COLUMNS,
        { label: "Updated", cell: (t) => formatTime(t.updated_at, zone), class: "nowrap" },
        {
          label: "Operation",
          class: "nowrap",
          cell: (t) =>
            h(
              "div",
              { class: "row-actions" },
              button("Use", () => navigate(`missions/new?template=${encodeURIComponent(t.template_id)}`), { kind: "link", "aria-label": `Use ${t.name}` }),
              button("Edit", () => openEditor(t), { kind: "link", "aria-label": `Edit ${t.name}` }),
              button("Delete", () => remove(t), { kind: "link danger", "aria-label": `Delete ${t.name}` }),
            ),
        },
      ],
      items,
      { offset, empty: "No template yet: click Add." },
    );
  }

  // The operator's common templates: read and used here, changed only by the operator.
  function commonTable(items, offset) {
    return table(
      "Common templates",
      [
        { label: "Seq No.", cell: (_, i) => i + 1 },
        { label: "Template Name", cell: (t) => t.name },
        { label: "SMS Type", cell: (t) => SMS_TYPES[t.sms_type] || t.sms_type },
        { label: "SMS Content", cell: (t) => t.content, class: "text" },
        { label: "Variables", cell: (t) => t.variables.join(", ") || "-" },
        {
          label: "Operation",
          cell: (t) => button("Use", () => navigate(`missions/new?template=${encodeURIComponent(t.template_id)}`), { kind: "link", "aria-label": `Use ${t.name}` }),
        },
      ],
      items,
      { offset, empty: "Your operator has no common template yet." },
    );
  }

  async function remove(template) {
    if (!(await confirmDialog("Delete this template?", `"${template.name}" will be deleted.`, "Delete"))) return;
    try {
      await call("DELETE", `/v1/templates/${encodeURIComponent(template.template_id)}`);
      notify("success", `Template "${template.name}" was deleted.`);
      await pager.first();
    } catch (error) {
      notify("error", error.message, error.details);
    }
  }

  function openEditor(existing = null) {
    const name = h("input", { type: "text", name: "template_name", maxlength: 60, required: true, value: existing ? existing.name : "" });
    const content = h("textarea", { name: "template_content", rows: 5, maxlength: CONTENT_MAX, required: true });
    content.value = existing ? existing.content : "";
    const hint = h("p", { class: "hint", "aria-live": "polite" });
    const errors = h("div", {});
    const update = () => {
      const names = variables(content.value);
      hint.textContent = content.value
        ? `${describe(analyse(content.value))}${names.length ? ` · Variables: ${names.join(", ")}` : ""}`
        : "Write variables as ${Name}; the number list then needs a Name column.";
    };
    content.addEventListener("input", update);
    update();
    const type = radios("SMS Type", "template_sms_type", SMS_TYPES, existing ? existing.sms_type : "business", { required: true });
    const form = h(
      "form",
      { "aria-label": existing ? "Edit SMS template" : "Add SMS template" },
      field("Template Name", name, { required: true }),
      type,
      field("SMS Content", counted(content, CONTENT_MAX), { required: true, extra: hint }),
      errors,
      h(
        "div",
        { class: "form-actions" },
        button("Save", null, { kind: "primary", type: "submit" }),
        button("Cancel", () => editorArea.replaceChildren()),
      ),
    );
    form.addEventListener("submit", async (event) => {
      event.preventDefault();
      const body = {
        name: name.value.trim(),
        content: content.value,
        sms_type: form.querySelector('input[name="template_sms_type"]:checked').value,
      };
      try {
        if (existing) {
          await call("PATCH", `/v1/templates/${encodeURIComponent(existing.template_id)}`, { json: body });
        } else {
          await call("POST", "/v1/templates", { json: body });
        }
        editorArea.replaceChildren();
        notify("success", `Template "${body.name}" was saved.`);
        await pager.first();
      } catch (error) {
        showError(errors, error);
      }
    });
    editorArea.replaceChildren(panel(existing ? `Edit template "${existing.name}"` : "Add SMS template", form));
    name.focus();
  }

  main.append(
    h("div", { class: "page-head" }, h("h1", {}, "SMS Template"), h("div", { class: "page-actions" }, button("Add", () => openEditor(), { kind: "success", "aria-label": "Add template" }))),
    editorArea,
    h("section", { class: "panel", "aria-label": "Templates" }, results, pager.element),
  );
  main.append(panel("Common templates", commonResults, commonPager.element));
  await Promise.all([pager.first(), commonPager.first()]);
}
