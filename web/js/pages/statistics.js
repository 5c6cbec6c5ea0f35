// SMS Statistics / SMS Delivery Statistics: per dispatching date, in the tenant's zone.

import { get } from "../api.js";
import { button, field, h, localDate, notify, table, zoneLabel } from "../ui.js";
import { rate } from "./overview.js";

export async function render({ main, account }) {
  const zone = account.time_zone;
  const from = h("input", { type: "date", name: "from" });
  const to = h("input", { type: "date", name: "to" });
  const results = h("div", {});
  const defaults = () => {
    from.value = localDate(zone, -6);
    to.value = localDate(zone);
  };

  async function search(event) {
    event?.preventDefault();
    try {
      const answer = await get("/v1/statistics", { from: from.value, to: to.value });
      results.replaceChildren(statisticsTable(answer.days));
    } catch (error) {
      notify("error", error.message, error.details);
    }
  }

  const form = h(
    "form",
    { class: "filters", role: "search", "aria-label": "Search statistics", onsubmit: search },
    field("Dispatching Date from", from),
    field("to", to),
    h(
      "div",
      { class: "filter-actions" },
      button("Search", null, { kind: "primary", type: "submit" }),
      button("Reset", () => {
        defaults();
        search();
      }),
    ),
  );
  defaults();
  main.append(
    h("h1", {}, "SMS Delivery Statistics"),
    h(
      "section",
      { class: "panel" },
      form,
      h("p", { class: "hint" }, `Dates are dispatching dates in ${zone} (${zoneLabel(zone)}). The total includes messages still awaiting a delivery receipt.`),
      results,
    ),
  );
  await search();
}

function statisticsTable(days) {
  // Newest first, as the log reads.
  const rows = [...days].reverse();
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
    rows,
  );
}
