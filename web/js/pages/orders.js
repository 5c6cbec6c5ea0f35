// Product Order Mgt: the product packages the operator ordered for this tenant, what is
// left of each prepaid one, and where each post-paid one stands against its thresholds.

import { get } from "../api.js";
import { t } from "../i18n.js";
import { button, formatTime, h, pagedRows, panel, statusBadge, table, zoneLabel } from "../ui.js";

const PAYMENT_TYPES = {
  prepaid: t("Prepaid"),
  postpaid: t("Post-paid"),
};
const ORDER_STATUSES = {
  activated: t("Activated Successfully"),
  ordered: t("Order Successfully"),
  used_up: t("Used Up"),
  expired: t("Expired"),
  warning: t("Warning Threshold Reached"),
  prohibited: t("Sending Prohibited"),
  cancelled: t("Cancelled"),
};

const dash = (value) => (value === null || value === undefined ? "-" : String(value));

/** "USD10000/USD15000": a post-paid order's warning and prohibit thresholds. */
export function thresholds(order) {
  return order.warning_usd === null ? "-" : `USD${order.warning_usd}/USD${order.prohibit_usd}`;
}

/** The thresholds, allowed to break after their slash (the text stays the same). */
function breakableThresholds(order) {
  const [warning, prohibit] = thresholds(order).split("/");
  return prohibit === undefined ? warning : h("span", {}, `${warning}/`, h("wbr"), prohibit);
}

export function paymentType(order) {
  return PAYMENT_TYPES[order.payment_type] || order.payment_type;
}

export function orderStatus(order) {
  return statusBadge(order.status, ORDER_STATUSES[order.status] || order.status);
}

export async function render({ main, account }) {
  const zone = account.time_zone;
  const detailArea = h("div", {});
  const { items } = await get("/v1/orders");

  function showDetail(order) {
    const close = button(t("Close"), () => detailArea.replaceChildren());
    const facts = [
      [t("Business Channel"), order.channel],
      [t("Expiry Time"), formatTime(order.expires_at, zone) || "-"],
    ];
    if (order.payment_type === "postpaid") facts.push([t("This Month's Spending"), `USD${order.month_cost_usd}`]);
    if (order.cancelled_at) facts.push([t("Cancelled Time"), formatTime(order.cancelled_at, zone)]);
    detailArea.replaceChildren(
      panel(
        t("Order {number}", { number: order.order_number }),
        h("dl", { class: "facts" }, facts.map(([term, value]) => [h("dt", {}, term), h("dd", {}, value)])),
        h("div", { class: "form-actions" }, close),
      ),
    );
    close.focus();
  }

  const rows = h("div", {});
  const pager = pagedRows(items, (shown, offset) => rows.replaceChildren(orderTable(shown, offset, zone, showDetail)));
  main.append(
    h("h1", {}, t("Product Order Mgt")),
    detailArea,
    h(
      "section",
      { class: "panel", "aria-label": t("Orders") },
      h("p", { class: "hint" }, t("Times are in {zone} ({offset}). Your operator places orders of product packages.", { zone, offset: zoneLabel(zone) })),
      rows,
      pager.element,
    ),
  );
  await pager.first();
}

function orderTable(items, offset, zone, showDetail) {
  return table(
    t("Product orders"),
    [
      { label: t("Seq No."), cell: (_, i) => i + 1 },
      { label: t("Order Number"), cell: (o) => h("code", { class: "long-id" }, o.order_number) },
      { label: t("Package ID"), cell: (o) => o.package_id },
      { label: t("Product Name"), cell: (o) => o.product_name },
      { label: t("Tenant Name"), cell: (o) => o.tenant_name },
      { label: t("Order Time"), cell: (o) => formatTime(o.ordered_at, zone) },
      { label: t("Effective Time of Usage"), cell: (o) => (o.validity_days ? t("{days} Day(s)", { days: o.validity_days }) : "-") },
      { label: t("Payment Type"), cell: paymentType },
      { label: t("Total SMS Amount"), cell: (o) => dash(o.sms_amount), class: "num" },
      { label: t("Remaining Amount"), cell: (o) => dash(o.remaining), class: "num" },
      // The guide's 13 columns fit a 1440-px window only if these may break in two.
      { label: t("Threshold for Warning/\u200bProhibiting"), cell: breakableThresholds },
      { label: t("Status"), cell: orderStatus, class: "wrap" },
      {
        label: t("Operation"),
        cell: (o) => button(t("Detail"), () => showDetail(o), { kind: "link", "aria-label": t("Detail of {name}", { name: o.order_number }) }),
      },
    ],
    items,
    { empty: t("No orders yet: your operator orders product packages for you."), compact: true, offset },
  );
}
