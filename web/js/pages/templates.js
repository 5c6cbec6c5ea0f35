// SMS / SMS Template: reusable contents. Use one in the Add form, edit or delete it.

import { call, get } from "../api.js";
import { t } from "../i18n.js";
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
  onSubmit,
  panel,
  radios,
  showError,
  table,
} from "../ui.js";

// A template's columns, here and in the Add form's Default Template dialog.
export const TEMPLATE_COLUMNS = [
  { label: t("Seq No."), cell: (_, i) => i + 1 },
  { label: t("Template Name"), cell: (template) => template.name },
  { label: t("SMS Type"), cell: (template) => SMS_TYPES[template.sms_type] || template.sms_type },
  { label: t("SMS Content"), cell: (template) => template.content, class: "text" },
  { label: t("Variables"), cell: (template) => template.variables.join(", ") || "-" },
];

const CONTENT_MAX = 1500;

/** A template's Edit and Delete buttons, named after it. */
export function editAndDelete(template, edit, remove) {
  return [
    button(t("Edit"), () => edit(template), { kind: "link", "aria-label": t("Edit {name}", { name: template.name }) }),
    button(t("Delete"), () => remove(template), { kind: "link danger", "aria-label": t("Delete {name}", { name: template.name }) }),
  ];
}

/**
 * Deletes a template (the tenant's, or the operator's common one at `path`), asked first;
 * `refresh()` shows the list again.
 */
export async function removeTemplate(template, path, refresh) {
  if (!(await confirmDialog(t("Delete this template?"), t("\"{name}\" will be deleted.", { name: template.name }), t("Delete")))) return;
  try {
    await call("DELETE", path);
    notify("success", t("Template \"{name}\" was deleted.", { name: template.name }));
    await refresh();
  } catch (error) {
    notify("error", error.message, error.details);
  }
}

/**
 * The Add or Edit form of a template (the tenant's or a common one), shown in `area`:
 * its name, SMS type and content with the live segment hint. `save(body)` writes it (the
 * API's refusal is shown in the form); then the form closes and `refresh()` shows the
 * list again. `title` names the form (read out by a screen reader).
 */
export function templateEditor(area, existing, save, refresh, title = existing ? t("Edit SMS template") : t("Add SMS template")) {
  const name = h("input", { type: "text", name: "template_name", maxlength: 60, required: true, value: existing ? existing.name : "" });
  const content = h("textarea", { name: "template_content", rows: 5, maxlength: CONTENT_MAX, required: true });
  content.value = existing ? existing.content : "";
  const hint = h("p", { class: "hint", "aria-live": "polite" });
  const errors = h("div", {});
  const update = () => {
    const names = variables(content.value);
    const description = describe(analyse(content.value));
    hint.textContent = content.value
      ? names.length
        ? t("{description} · Variables: {names}", { description, names: names.join(", ") })
        : description
      : t("Write variables as ${Name}; the number list then needs a Name column.");
  };
  content.addEventListener("input", update);
  update();
  const type = radios(t("SMS Type"), "template_sms_type", SMS_TYPES, existing ? existing.sms_type : "business", { required: true });
  const form = h(
    "form",
    { "aria-label": title },
    field(t("Template Name"), name, { required: true }),
    type,
    field(t("SMS Content"), counted(content, CONTENT_MAX), { required: true, extra: hint }),
    errors,
    h(
      "div",
      { class: "form-actions" },
      button(t("Save"), null, { kind: "primary", type: "submit" }),
      button(t("Cancel"), () => area.replaceChildren()),
    ),
  );
  onSubmit(form, async () => {
    const body = {
      name: name.value.trim(),
      content: content.value,
      sms_type: form.querySelector('input[name="template_sms_type"]:checked').value,
    };
    try {
      await save(body);
      area.replaceChildren();
      notify("success", t("Template \"{name}\" was saved.", { name: body.name }));
      await refresh();
    } catch (error) {
      showError(errors, error);
    }
  });
  area.replaceChildren(panel(existing ? t("Edit template \"{name}\"", { name: existing.name }) : t("Add SMS template"), form));
  name.focus();
}

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
      t("SMS templates"),
      [
        ...TEMPLATE_COLUMNS,
        { label: t("Updated"), cell: (template) => formatTime(template.updated_at, zone), class: "nowrap" },
        {
          label: t("Operation"),
          class: "nowrap",
          cell: (template) =>
            h(
              "div",
              { class: "row-actions" },
              button(t("Use"), () => navigate(`missions/new?template=${encodeURIComponent(template.template_id)}`), { kind: "link", "aria-label": t("Use {name}", { name: template.name }) }),
              ...editAndDelete(template, openEditor, remove),
            ),
        },
      ],
      items,
      { offset, empty: t("No template yet: click Add.") },
    );
  }

  // The operator's common templates: read and used here, changed only by the operator.
  function commonTable(items, offset) {
    return table(
      t("Common templates"),
      [
        ...TEMPLATE_COLUMNS,
        {
          label: t("Operation"),
          cell: (template) => button(t("Use"), () => navigate(`missions/new?template=${encodeURIComponent(template.template_id)}`), { kind: "link", "aria-label": t("Use {name}", { name: template.name }) }),
        },
      ],
      items,
      { offset, empty: t("Your operator has no common template yet.") },
    );
  }

  const refresh = () => pager.first();
  const remove = (template) => removeTemplate(template, `/v1/templates/${encodeURIComponent(template.template_id)}`, refresh);
  function openEditor(existing = null) {
    const path = existing ? `/v1/templates/${encodeURIComponent(existing.template_id)}` : "/v1/templates";
    templateEditor(editorArea, existing, (body) => call(existing ? "PATCH" : "POST", path, { json: body }), refresh);
  }

  main.append(
    h("div", { class: "page-head" }, h("h1", {}, t("SMS Template")), h("div", { class: "page-actions" }, button(t("Add"), () => openEditor(), { kind: "success", "aria-label": t("Add template") }))),
    editorArea,
    h("section", { class: "panel", "aria-label": t("Templates") }, results, pager.element),
  );
  main.append(panel(t("Common templates"), commonResults, commonPager.element));
  await Promise.all([pager.first(), commonPager.first()]);
}
