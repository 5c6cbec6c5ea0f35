// SMS Overview: what an application needs to call the API, the product orders' status
// and today's sending.

import { apiBaseUrl, get, session } from "../api.js";
import { h, panel, table, zoneLabel } from "../ui.js";
import { orderStatus, paymentType, thresholds } from "./orders.js";

/** A hint of the key in use: its prefix and last four characters, never the key. */
function keyHint(key) {
  if (!key) return "";
  const prefix = key.startsWith("csk_") ? "csk_" : "";
  return `${prefix}${"•".repeat(12)}${key.slice(-4)}`;
}

function item(term, ...description) {
  return [h("dt", {}, term), h("dd", {}, ...description)];
}

function rate(value) {
  return value === null || value === undefined ? "-" : `${(value * 100).toFixed(2).replace(/\.?0+$/, "")}%`;
}

function figure(label, value, kind = "") {
  return h("div", { class: `figure ${kind}` }, h("span", { class: "figure-value" }, String(value)), h("span", { class: "figure-label" }, label));
}

// An expired or cancelled order pays for nothing more: what it still holds is unused,
// not left to send.
const ENDED = new Set(["expired", "cancelled"]);

/** What is left of a prepaid order (unused, once it has ended), or a post-paid order's thresholds. */
function standing(order) {
  if (order.payment_type !== "prepaid") return thresholds(order);
  return `${order.remaining} of ${order.sms_amount} SMS ${ENDED.has(order.status) ? "unused" : "left"}`;
}

function orderStatusPanel(orders) {
  if (orders.error) {
    return panel("Product Order Status", h("p", { class: "hint" }, `The orders could not be read: ${orders.error.message}`));
  }
  return panel(
    "Product Order Status",
    table(
      "Product order status",
      [
        { label: "Product Name", cell: (o) => o.product_name },
        { label: "Payment Type", cell: paymentType },
        { label: "Remaining Amount / Threshold", cell: standing },
        { label: "Status", cell: orderStatus },
      ],
      orders.items,
      { empty: "No orders yet.", compact: true },
    ),
    h("p", {}, h("a", { href: "#/orders" }, "Product Order Mgt")),
  );
}

export async function render({ main, refreshAccount }) {
  // The orders are a panel of their own: if they cannot be read, the rest still shows.
  const [account, orders] = await Promise.all([refreshAccount(), get("/v1/orders").catch((error) => ({ error }))]);
  const today = account.today;
  main.append(
    h("h1", {}, "SMS Overview"),
    h(
      "div",
      { class: "grid-2" },
      panel(
        "API docking",
        h("p", { class: "lead" }, "Parameters your application needs to send through the Web API."),
        h(
          "dl",
          { class: "facts" },
          session.account()
            ? item(
                "Auth key",
                account.api_key_ids.length
                  ? h("ul", { class: "chips", "aria-label": "API key ids" }, account.api_key_ids.map((id) => h("li", {}, h("code", {}, id))))
                  : h("span", { class: "muted" }, "No API key yet: ask your operator."),
                h(
                  "p",
                  { class: "hint" },
                  account.api_key_ids.length ? "Your operator issued these keys; each was shown once, when issued. Send one as Authorization: Bearer <key>. " : "",
                  "Your portal session is not an API key: it ends when you log out.",
                ),
              )
            : item(
                "Auth key",
                h("code", { "aria-label": "Auth key hint" }, keyHint(session.key())),
                h("span", { class: "muted" }, ` (key id ${account.key.key_id})`),
                h("p", { class: "hint" }, "For safety the key itself is never shown again. Send it as Authorization: Bearer <key>."),
              ),
          item(
            "Route IDs",
            account.route_ids.length
              ? h("ul", { class: "chips", "aria-label": "Route IDs" }, account.route_ids.map((id) => h("li", {}, h("code", {}, id))))
              : h("span", { class: "muted" }, "No business channel yet: ask your operator."),
          ),
          item(
            "Sender IDs",
            account.sender_ids.length
              ? h("ul", { class: "chips", "aria-label": "Sender IDs" }, account.sender_ids.map((id) => h("li", {}, h("code", {}, id))))
              : h("span", { class: "muted" }, "Any: no sender id is registered for you."),
          ),
          item("API docking address", h("code", {}, apiBaseUrl())),
          item(
            "CMI Web API address",
            h("code", { "aria-label": "CMI Web API address" }, `${apiBaseUrl()}/v1/cmi`),
            h("p", { class: "hint" }, "For applications written for the CMI CloudSMS Web API: they send the key as AUTH_KEY and a route id as ROUTE_ID."),
          ),
          item(
            "API specification",
            h("a", { href: "api.html" }, "CloudSMS Web API Specification"),
            " · ",
            h("a", { href: "openapi.json" }, "OpenAPI document (JSON)"),
          ),
        ),
      ),
      panel(
        "Account",
        h(
          "dl",
          { class: "facts" },
          item("Tenant", `${account.name} (${account.tenant_id})`),
          item("Time zone", `${account.time_zone} (${zoneLabel(account.time_zone)})`),
          item("Sending window", `${account.sending_window} for scheduled missions`),
        ),
      ),
    ),
    orderStatusPanel(orders),
    panel(
      `Today's sending statistics (${today.date})`,
      h(
        "div",
        { class: "figures", role: "group", "aria-label": "Today's sending statistics" },
        figure("Total Delivery Amount", today.total),
        figure("Delivery Success", today.delivered, today.delivered ? "good" : ""),
        figure("Delivery Failure", today.failed, today.failed ? "bad" : ""),
        figure("No Delivery Notification", today.no_notification),
        figure("Awaiting Receipt", today.pending),
        figure("Delivery Success Rate", rate(today.success_rate)),
      ),
      h("p", {}, h("a", { href: "#/statistics" }, "SMS Delivery Statistics"), " · ", h("a", { href: "#/log" }, "Dispatching Log")),
    ),
    panel(
      "Learn more",
      h(
        "ul",
        { class: "links", "aria-label": "Learn more" },
        h("li", {}, h("a", { href: "guide.html" }, "CloudSMS Portal Guide")),
        h("li", {}, h("a", { href: "api.html" }, "CloudSMS Web API Specification")),
      ),
    ),
  );
}

export { rate };
