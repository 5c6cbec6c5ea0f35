// Platform Black List (the operator's): numbers no tenant ever sends to. Add numbers with
// a reason, import a file of them, remove one; the list and the forms are Black List
// Mgt's, on the admin API's platform-wide blacklist.

import { t } from "../i18n.js";
import { h, panel } from "../ui.js";
import { addNumbersForm, blacklistList, importNumbersForm } from "./blacklist.js";

const PATH = "/v1/admin/blacklist";

export async function render({ main, account }) {
  const list = blacklistList(PATH, account.time_zone);
  main.append(
    h("h1", {}, t("Platform Black List")),
    h("p", { class: "hint" }, t("No tenant sends to a number on this list: missions and API sends count it as blacklisted, as they do a number on the tenant's own Black List.")),
    h(
      "div",
      { class: "grid-2" },
      panel(t("Add numbers"), addNumbersForm(PATH, list.first)),
      panel(t("Import numbers"), importNumbersForm(`${PATH}/import`, list.first)),
    ),
    h("section", { class: "panel", "aria-label": t("Platform blacklist") }, list.element),
  );
  await list.first();
}
