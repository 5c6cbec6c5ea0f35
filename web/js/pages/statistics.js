// SMS Statistics / SMS Delivery Statistics: per dispatching date, in the tenant's zone.

import { get } from "../api.js";
import { dateRangeFilters, h, notify, pagedRows, table, zoneLabel } from "../ui.js";
import { rate } from "./overview.js";

export async function render({ main, account }) {
  const zone = account.time_zone;
  const results = h("div", {});
  const filters = dateRangeFilters(zone, "Search statistics", search);

  async function search() {
    const problem = filters.problem();
    if (problem) {
      results.replaceChildren();
      return notify("error", problem);
    }
    try {
      const answer = await get("/v1/statistics", filters.range());
      // Oldest first, as the API answers them and the guide lists them.
      const rows = h("div", {});
      const pager = pagedRows(answer.days, (days, offset) => rows.replaceChildren(statisticsTable(days, offset)));
      results.replaceChildren(rows, pager.element);
      await pager.first();
    } catch (error) {
      // Rows of an earlier search would read as this one's.
      results.replaceChildren();
      notify("error", error.message, error.details);
    }
  }

  main.append(
    h("h1", {}, "SMS Delivery Statistics"),
    h(
      "section",
      { class: "panel" },
      filters.form,
      h("p", { class: "hint" }, `Dates are dispatching dates in ${zone} (${zoneLabel(zone)}). The total includes messages still awaiting a delivery receipt.`),
      results,
    ),
  );
  await search();
}

function statisticsTable(days, offset) {
  return table(
    "SMS delivery statistics",
    [
      { label: "Seq No.", cell: (_, i) => i + 1 },
      { label: "Dispatching Date", cell: (d) => d.date, class: "nowrap" },
      { label: "Total Delivery Amount", cell: (d) => d.total, class: "num" },
      { label: "Delivery Success", cell: (d) => d.delivered, class: "num" },
      { label: "Delivery Failure", cell: (d) => d.failed, class: "num" },
      { label: "No Delivery Notification", cell: (d) => d.no_notification, class: "num" },
      { label: "Delivery Success Rate", cell: (d) => rate(d.success_rate), class: "num" },
      {
        label: "Operation",
        cell: (d) => h("a", { href: `#/log?from=${d.date}T00:00:00&to=${d.date}T23:59:59`, "aria-label": `Dispatching log of ${d.date}` }, "Detail"),
      },
    ],
    days,
    { offset },
  );
}
