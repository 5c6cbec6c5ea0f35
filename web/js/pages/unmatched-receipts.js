// Unmatched Receipts (the operator's): delivery receipts that named no message we know,
// kept for reconciliation (GET /v1/admin/receipts/unmatched). Most overtook the record of
// their submission and the hourly sweep applies them; the rest are a gateway's receipts
// for messages of another platform. The channel's receipt secret is never in the answer.

import { get } from "../api.js";
import { t } from "../i18n.js";
import { Pager, field, filterForm, formatTime, h, select, table, zoneLabel } from "../ui.js";
import { allChannels } from "./channels.js";

const shown = (value) => value || "-";

/** Applied later by the sweep (when, and to which message), or still waiting. */
function reconciled(receipt, zone) {
  if (!receipt.reconciled_at) return t("Not yet|reconciled");
  return t("{time}, to {uid}", { time: formatTime(receipt.reconciled_at, zone), uid: receipt.reconciled_uid || "-" });
}

function receiptTable(items, offset, zone, empty) {
  return table(
    t("Unmatched receipts"),
    [
      { label: t("Seq No."), cell: (_, i) => i + 1 },
      { label: t("Business Channel"), cell: (r) => r.route_id },
      { label: t("Received"), cell: (r) => formatTime(r.received_at, zone), class: "nowrap" },
      { label: t("UID"), cell: (r) => (r.uid ? h("code", {}, r.uid) : "-") },
      { label: t("Tenant ID"), cell: (r) => shown(r.tenant_id) },
      { label: t("Carrier Message ID"), cell: (r) => (r.carrier_message_id ? h("code", {}, r.carrier_message_id) : "-") },
      { label: t("DR State"), cell: (r) => r.dr_state },
      { label: t("Error Code"), cell: (r) => shown(r.error_code) },
      { label: t("Reconciled"), cell: (r) => reconciled(r, zone) },
      // As the gateway sent it: its own fields ("status=1&answer=id:…"), never the secret.
      { label: t("Receipt as Sent"), cell: (r) => (r.raw ? h("code", {}, r.raw) : "-") },
    ],
    items,
    { offset, empty },
  );
}

export async function render({ main, account }) {
  const zone = account.time_zone;
  const channels = await allChannels();
  const channel = select(Object.fromEntries(channels.map((c) => [c.route_id, c.route_id])), { blank: t("All"), name: "channel" });
  const results = h("div", {});
  // The channel of the last search: Next and Go to keep to it (the API's cursor is that
  // search's), whatever is chosen since.
  let searched = "";
  const pager = new Pager(
    async (cursor) => {
      const page = await get("/v1/admin/receipts/unmatched", { channel: searched, cursor });
      return { ...page, items: page.receipts };
    },
    (items, offset) => {
      const empty = searched
        ? t("No unmatched receipt of {route}.", { route: searched })
        : t("No unmatched receipt: every receipt found its message.");
      results.replaceChildren(receiptTable(items, offset, zone, empty));
    },
  );
  const search = () => {
    searched = channel.value;
    return pager.search();
  };
  const form = filterForm(t("Search unmatched receipts"), [field(t("Business Channel"), channel)], search);
  main.append(
    h("h1", {}, t("Unmatched Receipts")),
    h(
      "section",
      { class: "panel", "aria-label": t("Unmatched receipts") },
      h(
        "p",
        { class: "hint" },
        t("Delivery receipts whose message was not found. Usually the receipt overtook the record of the message's submission: the hourly sweep looks for its message again while a receipt is awaited (72 hours by default) and, once found, applies the receipt (Reconciled). Otherwise a gateway is sending receipts for messages of another platform."),
      ),
      h("p", { class: "hint" }, t("Times are in {zone} ({offset}).", { zone, offset: zoneLabel(zone) })),
      form,
      results,
      pager.element,
    ),
  );
  await pager.first();
}
