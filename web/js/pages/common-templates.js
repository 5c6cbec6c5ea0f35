// Common Templates (the operator's): templates every tenant can use, on its SMS Template
// page and in the Add form's "Default Template". Add, edit and delete them here; the
// form, the columns and the delete are the SMS Template page's.

import { call, get } from "../api.js";
import { t } from "../i18n.js";
import { Pager, button, formatTime, h, table } from "../ui.js";
import { TEMPLATE_COLUMNS, editAndDelete, removeTemplate, templateEditor } from "./templates.js";

const path = (template) => `/v1/admin/templates/${encodeURIComponent(template.template_id)}`;

export async function render({ main, account }) {
  const zone = account.time_zone;
  const results = h("div", {});
  const editorArea = h("div", {});
  // Listed as the tenants list them: the admin API only adds, changes and deletes them.
  const pager = new Pager(
    (cursor) => get("/v1/templates/common", { cursor }),
    (items, offset) =>
      results.replaceChildren(
        table(
          t("Common templates"),
          [
            ...TEMPLATE_COLUMNS,
            { label: t("Updated"), cell: (template) => formatTime(template.updated_at, zone), class: "nowrap" },
            {
              label: t("Operation"),
              class: "nowrap",
              cell: (template) => h("div", { class: "row-actions" }, editAndDelete(template, openEditor, remove)),
            },
          ],
          items,
          { offset, empty: t("No common template yet: click Add.") },
        ),
      ),
  );
  const refresh = () => pager.first();
  const remove = (template) => removeTemplate(template, path(template), refresh);

  function openEditor(existing = null) {
    const save = (body) => (existing ? call("PATCH", path(existing), { json: body }) : call("POST", "/v1/admin/templates", { json: body }));
    templateEditor(editorArea, existing, save, refresh, existing ? t("Edit common template") : t("Add common template"));
  }

  main.append(
    h(
      "div",
      { class: "page-head" },
      h("h1", {}, t("Common Templates")),
      h("div", { class: "page-actions" }, button(t("Add"), () => openEditor(), { kind: "success", "aria-label": t("Add common template") })),
    ),
    editorArea,
    h(
      "section",
      { class: "panel", "aria-label": t("Common templates") },
      h("p", { class: "hint" }, t("Every tenant can use these templates: on its SMS Template page, and with Default Template in the Add form of a mission.")),
      results,
      pager.element,
    ),
  );
  await pager.first();
}
