// SMS Overview: what an application needs to call the API, the product orders' status
// and today's sending.

import { apiBaseUrl, get, session } from "../api.js";
import { t } from "../i18n.js";
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
  const values = { remaining: order.remaining, amount: order.sms_amount };
  return ENDED.has(order.status) ? t("{remaining} of {amount} SMS unused", values) : t("{remaining} of {amount} SMS left", values);
}

function orderStatusPanel(orders) {
  if (orders.error) {
    return panel(t("Product Order Status"), h("p", { class: "hint" }, t("The orders could not be read: {message}", { message: orders.error.message })));
  }
  return panel(
    t("Product Order Status"),
    table(
      t("Product order status"),
      [
        { label: t("Product Name"), cell: (o) => o.product_name },
        { label: t("Payment Type"), cell: paymentType },
        { label: t("Remaining Amount / Threshold"), cell: standing },
        { label: t("Status"), cell: orderStatus },
      ],
      orders.items,
      { empty: t("No orders yet."), compact: true },
    ),
    h("p", {}, h("a", { href: "#/orders" }, t("Product Order Mgt"))),
  );
}

export async function render({ main, refreshAccount }) {
  // The orders are a panel of their own: if they cannot be read, the rest still shows.
  const [account, orders] = await Promise.all([refreshAccount(), get("/v1/orders").catch((error) => ({ error }))]);
  const today = account.today;
  main.append(
    h("h1", {}, t("SMS Overview")),
    h(
      "div",
      { class: "grid-2" },
      panel(
        t("API docking"),
        h("p", { class: "lead" }, t("Parameters your application needs to send through the Web API.")),
        h(
          "dl",
          { class: "facts" },
          session.account()
            ? item(
                t("Auth key"),
                account.api_key_ids.length
                  ? h("ul", { class: "chips", "aria-label": t("API key ids") }, account.api_key_ids.map((id) => h("li", {}, h("code", {}, id))))
                  : h("span", { class: "muted" }, t("No API key yet: ask your operator.")),
                h(
                  "p",
                  { class: "hint" },
                  account.api_key_ids.length ? `${t("Your operator issued these keys; each was shown once, when issued. Send one as Authorization: Bearer <key>.")} ` : "",
                  t("Your portal session is not an API key: it ends when you log out."),
                ),
              )
            : item(
                t("Auth key"),
                h("code", { "aria-label": t("Auth key hint") }, keyHint(session.key())),
                h("span", { class: "muted" }, ` ${t("(key id {id})", { id: account.key.key_id })}`),
                h("p", { class: "hint" }, t("For safety the key itself is never shown again. Send it as Authorization: Bearer <key>.")),
              ),
          item(
            t("Route IDs"),
            account.route_ids.length
              ? h("ul", { class: "chips", "aria-label": t("Route IDs") }, account.route_ids.map((id) => h("li", {}, h("code", {}, id))))
              : h("span", { class: "muted" }, t("No business channel yet: ask your operator.")),
          ),
          item(
            t("Sender IDs"),
            account.sender_ids.length
              ? h("ul", { class: "chips", "aria-label": t("Sender IDs") }, account.sender_ids.map((id) => h("li", {}, h("code", {}, id))))
              : h("span", { class: "muted" }, t("Any: no sender id is registered for you.")),
          ),
          item(t("API docking address"), h("code", {}, apiBaseUrl())),
          item(
            t("CMI Web API address"),
            h("code", { "aria-label": t("CMI Web API address") }, `${apiBaseUrl()}/v1/cmi`),
            h("p", { class: "hint" }, t("For applications written for the CMI CloudSMS Web API: they send the key as AUTH_KEY and a route id as ROUTE_ID.")),
          ),
          item(
            t("API specification"),
            h("a", { href: "api.html" }, t("CloudSMS Web API Specification")),
            " · ",
            h("a", { href: "openapi.json" }, t("OpenAPI document (JSON)")),
          ),
        ),
      ),
      panel(
        t("Account"),
        h(
          "dl",
          { class: "facts" },
          item(t("Tenant"), `${account.name} (${account.tenant_id})`),
          item(t("Time zone"), `${account.time_zone} (${zoneLabel(account.time_zone)})`),
          item(t("Sending window"), t("{window} for scheduled missions", { window: account.sending_window })),
        ),
      ),
    ),
    orderStatusPanel(orders),
    panel(
      t("Today's sending statistics ({date})", { date: today.date }),
      h(
        "div",
        { class: "figures", role: "group", "aria-label": t("Today's sending statistics") },
        figure(t("Total Delivery Amount"), today.total),
        figure(t("Delivery Success"), today.delivered, today.delivered ? "good" : ""),
        figure(t("Delivery Failure"), today.failed, today.failed ? "bad" : ""),
        figure(t("No Delivery Notification"), today.no_notification),
        figure(t("Awaiting Receipt"), today.pending),
        figure(t("Delivery Success Rate"), rate(today.success_rate)),
      ),
      h("p", {}, h("a", { href: "#/statistics" }, t("SMS Delivery Statistics")), " · ", h("a", { href: "#/log" }, t("Dispatching Log"))),
    ),
    panel(
      t("Learn more"),
      h(
        "ul",
        { class: "links", "aria-label": t("Learn more") },
        h("li", {}, h("a", { href: "guide.html" }, t("CloudSMS Portal Guide"))),
        h("li", {}, h("a", { href: "api.html" }, t("CloudSMS Web API Specification"))),
      ),
    ),
  );
}

export { rate };
