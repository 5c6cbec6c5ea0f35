// SMS Statistics / Expense Statistics: what sending cost, per dispatching date and
// channel, in the tenant's zone, with the range's total.

import { get } from "../api.js";
import { button, field, h, localDate, notify, table, zoneLabel } from "../ui.js";

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
      const answer = await get("/v1/statistics/expenses", { from: from.value, to: to.value });
      results.replaceChildren(expenseTable(answer.rows), totals(answer.total));
    } catch (error) {
      notify("error", error.message, error.details);
    }
  }

  const form = h(
    "form",
    { class: "filters", role: "search", "aria-label": "Search expenses", onsubmit: search },
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
    h("h1", {}, "Expense Statistics"),
    h(
      "section",
      { class: "panel" },
      form,
      h(
        "p",
        { class: "hint" },
        `Dates are dispatching dates in ${zone} (${zoneLabel(zone)}). A message costs its channel's price per segment for its country once the gateway accepts it.`,
      ),
      results,
    ),
  );
  await search();
}

function expenseTable(rows) {
  return table(
    "Expense statistics",
    [
      { label: "Seq No.", cell: (_, i) => i + 1 },
      { label: "Dispatching Date", cell: (r) => r.date, class: "nowrap" },
      { label: "Route ID", cell: (r) => r.route_id },
      { label: "Submitted SMS", cell: (r) => r.submitted, class: "num" },
      { label: "Segment Quantity", cell: (r) => r.segments, class: "num" },
      { label: "Cost (USD)", cell: (r) => r.cost_usd, class: "num" },
    ],
    rows,
  );
}

function totals(total) {
  const item = (term, value) => [h("dt", {}, term), h("dd", {}, String(value))];
  return h(
    "section",
    { class: "totals", "aria-label": "Total" },
    h("h2", {}, "Total"),
    h(
      "dl",
      { class: "facts inline" },
      ...item("Submitted SMS", total.submitted),
      ...item("Segment Quantity", total.segments),
      ...item("Cost (USD)", total.cost_usd),
    ),
  );
}
