// SMS Statistics / SMS Delivery Statistics: per dispatching date, in the tenant's zone.

import { get } from "../api.js";
import { t } from "../i18n.js";
import { dateRangeFilters, h, notify, pagedRows, table, zoneLabel } from "../ui.js";
import { rate } from "./overview.js";

export async function render({ main, account }) {
  const zone = account.time_zone;
  const results = h("div", {});
  const filters = dateRangeFilters(zone, t("Search statistics"), search);

  async function search() {
    const problem = filters.problem();
    if (problem) {
      results.replaceChildren();
      return notify("error", problem);
    }
    try {
      const answer = await get("/v1/statistics", filters.range());
      await showStatistics(results, answer);
    } catch (error) {
      // Rows of an earlier search would read as this one's.
      results.replaceChildren();
      notify("error", error.message, error.details);
    }
  }

  main.append(
    h("h1", {}, t("SMS Delivery Statistics")),
    h(
      "section",
      { class: "panel" },
      filters.form,
      h(
        "p",
        { class: "hint" },
        t("Dates are dispatching dates in {zone} ({offset}). The total includes messages still awaiting a delivery receipt.", { zone, offset: zoneLabel(zone) }),
      ),
      results,
    ),
  );
  await search();
}

/**
 * The rows of a statistics answer (the tenant's, or one the operator reads of a tenant)
 * in `results`, with the pager; `logLinks`: each date's Detail opens the Dispatching Log
 * of that date, which only the tenant itself reads.
 */
export async function showStatistics(results, answer, { logLinks = true } = {}) {
  // Oldest first, as the API answers them and the guide lists them.
  const rows = h("div", {});
  const pager = pagedRows(answer.days, (days, offset) => rows.replaceChildren(statisticsTable(days, offset, logLinks)));
  results.replaceChildren(rows, pager.element);
  await pager.first();
}

function statisticsTable(days, offset, logLinks) {
  return table(
    t("SMS delivery statistics"),
    [
      { label: t("Seq No."), cell: (_, i) => i + 1 },
      { label: t("Dispatching Date"), cell: (d) => d.date, class: "nowrap" },
      { label: t("Total Delivery Amount"), cell: (d) => d.total, class: "num" },
      { label: t("Delivery Success"), cell: (d) => d.delivered, class: "num" },
      { label: t("Delivery Failure"), cell: (d) => d.failed, class: "num" },
      { label: t("No Delivery Notification"), cell: (d) => d.no_notification, class: "num" },
      { label: t("Delivery Success Rate"), cell: (d) => rate(d.success_rate), class: "num" },
      logLinks && {
        label: t("Operation"),
        cell: (d) => h("a", { href: `#/log?from=${d.date}T00:00:00&to=${d.date}T23:59:59`, "aria-label": t("Dispatching log of {date}", { date: d.date }) }, t("Detail")),
      },
    ].filter(Boolean),
    days,
    { offset },
  );
}
