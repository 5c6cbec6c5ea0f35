// SMS Statistics / Expense Statistics: what sending cost, per dispatching date and
// channel, in the tenant's zone, with the range's total.

import { get } from "../api.js";
import { t } from "../i18n.js";
import { dateRangeFilters, h, notify, pagedRows, table, zoneLabel } from "../ui.js";

export async function render({ main, account }) {
  const zone = account.time_zone;
  const results = h("div", {});
  const filters = dateRangeFilters(zone, t("Search expenses"), search);

  async function search() {
    const problem = filters.problem();
    if (problem) {
      results.replaceChildren();
      return notify("error", problem);
    }
    try {
      const answer = await get("/v1/statistics/expenses", filters.range());
      await showExpenses(results, answer);
    } catch (error) {
      // Rows of an earlier search would read as this one's.
      results.replaceChildren();
      notify("error", error.message, error.details);
    }
  }

  main.append(
    h("h1", {}, t("Expense Statistics")),
    h(
      "section",
      { class: "panel" },
      filters.form,
      h(
        "p",
        { class: "hint" },
        t(
          "Dates are dispatching dates in {zone} ({offset}). A message costs its channel's price per segment for its country once the gateway accepts it; the post-paid cost is the part no prepaid package paid for, billed afterwards.",
          { zone, offset: zoneLabel(zone) },
        ),
      ),
      results,
    ),
  );
  await search();
}

/**
 * The rows of an expenses answer (the tenant's, or one the operator reads of a tenant) in
 * `results`, with the pager and the range's total.
 */
export async function showExpenses(results, answer) {
  // The API answers newest first; the portal lists dates oldest first, as the guide's
  // SMS Delivery Statistics does (and a day's channels in order of their route id).
  const rows = h("div", {});
  const pager = pagedRows([...answer.rows].reverse(), (shown, offset) => rows.replaceChildren(expenseTable(shown, offset)));
  results.replaceChildren(rows, pager.element, totals(answer.total));
  await pager.first();
}

function expenseTable(rows, offset) {
  return table(
    t("Expense statistics"),
    [
      { label: t("Seq No."), cell: (_, i) => i + 1 },
      { label: t("Dispatching Date"), cell: (r) => r.date, class: "nowrap" },
      { label: t("Route ID"), cell: (r) => r.route_id },
      { label: t("Submitted SMS"), cell: (r) => r.submitted, class: "num" },
      { label: t("Segment Quantity"), cell: (r) => r.segments, class: "num" },
      { label: t("Cost (USD)"), cell: (r) => r.cost_usd, class: "num" },
      { label: t("Post-paid Cost (USD)"), cell: (r) => r.postpaid_cost_usd, class: "num" },
    ],
    rows,
    { offset },
  );
}

function totals(total) {
  const item = (term, value) => [h("dt", {}, term), h("dd", {}, String(value))];
  return h(
    "section",
    { class: "totals", "aria-label": t("Total") },
    h("h2", {}, t("Total")),
    h(
      "dl",
      { class: "facts inline" },
      ...item(t("Submitted SMS"), total.submitted),
      ...item(t("Segment Quantity"), total.segments),
      ...item(t("Cost (USD)"), total.cost_usd),
      ...item(t("Post-paid Cost (USD)"), total.postpaid_cost_usd),
    ),
  );
}
