// Black List Mgt: numbers this tenant never sends to. Add, import a file, remove.

import { call, get } from "../api.js";
import { t } from "../i18n.js";
import { Pager, button, confirmDialog, field, filePick, filterForm, formatTime, h, notify, onSubmit, panel, showError, table } from "../ui.js";

// Numbers already listed keep the reason and date they were listed with.
function alreadyListed(count) {
  return count ? t("{count} already on it", { count }) : null;
}

// A notice of what an Add or Import did: each clause is whole in the chosen language (its
// word order differs), the clauses joined as that language joins them.
function sentence(clauses) {
  return t("{clauses}.", { clauses: clauses.filter(Boolean).join(t("; ")) });
}

// One notice for what an Add or Import did: a new notice replaces the page's last.
function report(outcome, invalid, errors) {
  if (invalid.length) {
    const message = sentence([...outcome, t("{count} number(s) could not be added", { count: invalid.length })]);
    showError(errors, { message, details: invalid });
  } else {
    notify("success", sentence(outcome));
  }
}

/**
 * A blacklist (the tenant's, or the operator's platform-wide one at `path`) with a search
 * by the start of a number and the pager, each number with its Remove (asked first).
 * `first()` shows its first page.
 */
export function blacklistList(path, zone) {
  // The example says what the API takes: a number's start, country code first (a search
  // it cannot read is refused naming that).
  const number = h("input", { type: "search", name: "number", placeholder: "+63917", spellcheck: "false", autocomplete: "off", inputmode: "tel" });
  const results = h("div", {});
  // The number of the last search: Next and Go to keep to it (the API's cursor is that
  // search's), whatever is typed since.
  let searched = "";
  const pager = new Pager(
    (cursor) => get(path, { number: searched, cursor }),
    (items, offset) =>
      results.replaceChildren(
        table(
          t("Blacklisted numbers"),
          [
            { label: t("Seq No."), cell: (_, i) => i + 1 },
            { label: t("Phone Number"), cell: (b) => b.number, class: "nowrap" },
            { label: t("Reason"), cell: (b) => b.reason || "-" },
            { label: t("Added"), cell: (b) => formatTime(b.added_at, zone), class: "nowrap" },
            {
              label: t("Operation"),
              cell: (b) => button(t("Remove"), () => remove(b.number), { kind: "link danger", "aria-label": t("Remove {number}", { number: b.number }) }),
            },
          ],
          items,
          { offset, empty: searched ? t("No blacklisted number starts so.") : t("The blacklist is empty.") },
        ),
      ),
  );
  const search = () => {
    searched = number.value.trim();
    return pager.search();
  };
  const form = filterForm(t("Search the blacklist"), [field(t("Phone Number"), number)], search);

  async function remove(number) {
    const sure = await confirmDialog(t("Remove this number?"), t("{number} will be removed from the blacklist.", { number }), t("Remove"));
    if (!sure) return;
    try {
      // With its "+" (escaped, which the API decodes): without it a +1 number such as
      // +15512345678 reads as a Mainland China mobile too, and is refused as ambiguous.
      await call("DELETE", `${path}/${encodeURIComponent(number)}`);
      notify("success", t("{number} was removed from the blacklist.", { number }));
      await pager.first();
    } catch (error) {
      notify("error", error.message, error.details);
    }
  }

  return { element: h("div", {}, form, results, pager.element), first: () => pager.first() };
}

/**
 * The form that adds numbers, with a reason, to a blacklist (the tenant's, or the
 * platform's at `path`); `refresh()` shows the list again.
 */
export function addNumbersForm(path, refresh) {
  const numbers = h("textarea", { name: "numbers", rows: 4, placeholder: "+639215347566\n+8613800138000" });
  const reason = h("input", { type: "text", name: "reason", maxlength: 200 });
  const addErrors = h("div", {});
  const addForm = h(
    "form",
    { "aria-label": t("Add numbers to the blacklist") },
    field(t("Phone Numbers"), numbers, { hint: t("One number per line, with its country code."), required: true }),
    field(t("Reason"), reason),
    addErrors,
    h("div", { class: "form-actions" }, button(t("Add to blacklist"), null, { kind: "primary", type: "submit" })),
  );
  onSubmit(addForm, async () => {
    const list = numbers.value.split(/[\n,;]+/).map((n) => n.trim()).filter(Boolean);
    if (!list.length) {
      showError(addErrors, { message: t("Enter at least one phone number.") });
      return;
    }
    try {
      const result = await call("POST", path, { json: { numbers: list, reason: reason.value.trim() } });
      report(
        [t("{count} number(s) added to the blacklist", { count: result.added.length }), alreadyListed(result.already_listed.length)],
        result.invalid,
        addErrors,
      );
      if (!result.invalid.length) addForm.reset();
      await refresh();
    } catch (error) {
      showError(addErrors, error);
    }
  });
  return addForm;
}

/**
 * The Import numbers form: a file's first column added to the blacklist at `path` (the
 * tenant's or the platform's `…/import`); `refresh()` shows the list again.
 */
export function importNumbersForm(path, refresh) {
  const file = h("input", { type: "file", name: "number_list", accept: ".xlsx,.csv" });
  const picked = filePick(file, t("Choose File"));
  const importReason = h("input", { type: "text", name: "import_reason", maxlength: 200 });
  const importErrors = h("div", {});
  const importForm = h(
    "form",
    { "aria-label": t("Import a blacklist file") },
    field(t("Number List File"), picked.element, { hint: t("An .xlsx or .csv with the phone numbers in the first column, after a header row; other columns are ignored, so a mission's number list imports as it is. At most 10,000 rows a file: import a longer list in parts."), required: true }),
    field(t("Import Reason"), importReason),
    importErrors,
    h("div", { class: "form-actions" }, button(t("Import"), null, { kind: "primary", type: "submit" })),
  );
  onSubmit(importForm, async () => {
    if (!file.files.length) {
      showError(importErrors, { message: t("Choose a file to import.") });
      return;
    }
    const data = new FormData();
    data.append("number_list", file.files[0]);
    if (importReason.value.trim()) data.append("reason", importReason.value.trim());
    try {
      const result = await call("POST", path, { form: data });
      const repeated = result.repeated ? t("{count} repeated in the file", { count: result.repeated }) : null;
      report(
        [t("{count} number(s) imported to the blacklist", { count: result.added }), alreadyListed(result.already_listed), repeated],
        result.invalid,
        importErrors,
      );
      importForm.reset();
      picked.show();
      await refresh();
    } catch (error) {
      showError(importErrors, error);
    }
  });
  return importForm;
}

export async function render({ main, account }) {
  const list = blacklistList("/v1/blacklist", account.time_zone);
  main.append(
    h("h1", {}, t("Black List Mgt")),
    h(
      "div",
      { class: "grid-2" },
      panel(t("Add numbers"), addNumbersForm("/v1/blacklist", list.first)),
      panel(t("Import numbers"), importNumbersForm("/v1/blacklist/import", list.first)),
    ),
    h("section", { class: "panel", "aria-label": t("Blacklist") }, list.element),
  );
  await list.first();
}
