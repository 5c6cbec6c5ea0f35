// Product Order Mgt: the product packages the operator ordered for this tenant, what is
// left of each prepaid one, and where each post-paid one stands against its thresholds.

import { get } from "../api.js";
import { button, formatTime, h, pagedRows, panel, statusBadge, table, zoneLabel } from "../ui.js";

const PAYMENT_TYPES = {
  prepaid: "Prepaid",
  postpaid: "Post-paid",
};
const ORDER_STATUSES = {
  activated: "Activated Successfully",
  ordered: "Order Successfully",
  used_up: "Used Up",
  expired: "Expired",
  warning: "Warning Threshold Reached",
  prohibited: "Sending Prohibited",
  cancelled: "Cancelled",
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
    const close = button("Close", () => detailArea.replaceChildren());
    const facts = [
      ["Business Channel", order.channel],
      ["Expiry Time", formatTime(order.expires_at, zone) || "-"],
    ];
    if (order.payment_type === "postpaid") facts.push(["This Month's Spending", `USD${order.month_cost_usd}`]);
    if (order.cancelled_at) facts.push(["Cancelled Time", formatTime(order.cancelled_at, zone)]);
    detailArea.replaceChildren(
      panel(
        `Order ${order.order_number}`,
        h("dl", { class: "facts" }, facts.map(([term, value]) => [h("dt", {}, term), h("dd", {}, value)])),
        h("div", { class: "form-actions" }, close),
      ),
    );
    close.focus();
  }

  const rows = h("div", {});
  const pager = pagedRows(items, (shown, offset) => rows.replaceChildren(orderTable(shown, offset, zone, showDetail)));
  main.append(
    h("h1", {}, "Product Order Mgt"),
    detailArea,
    h(
      "section",
      { class: "panel", "aria-label": "Orders" },
      h("p", { class: "hint" }, `Times are in ${zone} (${zoneLabel(zone)}). Your operator places orders of product packages.`),
      rows,
      pager.element,
    ),
  );
  await pager.first();
}

function orderTable(items, offset, zone, showDetail) {
  return table(
    "Product orders",
    [
      { label: "Seq No.", cell: (_, i) => i + 1 },
      { label: "Order Number", cell: (o) => h("code", { class: "long-id" }, o.order_number) },
      { label: "Package ID", cell: (o) => o.package_id },
      { label: "Product Name", cell: (o) => o.product_name },
      { label: "Tenant Name", cell: (o) => o.tenant_name },
      { label: "Order Time", cell: (o) => formatTime(o.ordered_at, zone) },
      { label: "Effective Time of Usage", cell: (o) => (o.validity_days ? `${o.validity_days} Day(s)` : "-") },
      { label: "Payment Type", cell: paymentType },
      { label: "Total SMS Amount", cell: (o) => dash(o.sms_amount), class: "num" },
      { label: "Remaining Amount", cell: (o) => dash(o.remaining), class: "num" },
      // The guide's 13 columns fit a 1440-px window only if these may break in two.
      { label: "Threshold for Warning/\u200bProhibiting", cell: breakableThresholds },
      { label: "Status", cell: orderStatus, class: "wrap" },
      {
        label: "Operation",
        cell: (o) => button("Detail", () => showDetail(o), { kind: "link", "aria-label": `Detail of ${o.order_number}` }),
      },
    ],
    items,
    { empty: "No orders yet: your operator orders product packages for you.", compact: true, offset },
  );
}
