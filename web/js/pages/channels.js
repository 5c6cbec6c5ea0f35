// Business Channels (the operator's): every channel with its gateway, limits and prices,
// and pausing and resuming one through a carrier's outage. Channels are added and their
// credentials changed with the `cloudsms` command or the admin API: a gateway's password
// is piped to the command, never typed into a page.

import { call, get } from "../api.js";
import { t } from "../i18n.js";
import { DIRECTIONS, button, confirmDialog, h, notify, panel, showError, statusBadge, table } from "../ui.js";

const GATEWAYS = { simulator: t("Simulator"), kannel: "Kannel", jasmin: "Jasmin", http_json: "HTTP JSON" };

/** Every channel (the API pages them), by route id. */
export async function allChannels() {
  const channels = [];
  let cursor = null;
  do {
    const page = await get("/v1/admin/channels", { cursor });
    channels.push(...page.channels);
    cursor = page.next_cursor;
  } while (cursor);
  return channels.sort((a, b) => a.route_id.localeCompare(b.route_id));
}

function prices(c) {
  const countries = Object.entries(c.prices_usd.by_country).map(([code, price]) => `+${code}: ${price}`);
  return [t("default {price}", { price: c.prices_usd.default }), ...countries].join(t(", "));
}

export async function render({ main }) {
  main.append(h("h1", {}, t("Business Channels")));
  const errors = h("div", {});
  const rows = h("div", {});

  async function pauseOrResume(channel) {
    const pausing = !channel.paused;
    if (pausing) {
      const confirmed = await confirmDialog(
        t("Pause {route}", { route: channel.route_id }),
        t("Messages of {route} stay on the queue, and go out when it is resumed.", { route: channel.route_id }),
        t("Pause the channel"),
      );
      if (!confirmed) return;
    }
    try {
      const path = `/v1/admin/channels/${encodeURIComponent(channel.route_id)}`;
      await call("PATCH", path, { json: { paused: pausing } });
      const route = channel.route_id;
      notify("success", pausing ? t("{route} paused: its messages wait on the queue.", { route }) : t("{route} resumed.", { route }));
      await show();
    } catch (error) {
      showError(errors, error);
    }
  }

  async function show() {
    const channels = await allChannels();
    errors.replaceChildren();
    rows.replaceChildren(
      table(
        t("Business channels"),
        [
          { label: t("Route ID"), cell: (c) => c.route_id },
          { label: t("Gateway"), cell: (c) => GATEWAYS[c.gateway_type] || c.gateway_type },
          { label: t("Endpoint"), cell: (c) => c.endpoint },
          { label: t("Default Sender"), cell: (c) => c.default_sender || "-" },
          { label: t("Throughput (segments/s)"), cell: (c) => (c.throughput ? String(c.throughput) : t("no limit")), class: "num" },
          { label: t("Directions"), cell: (c) => c.directions.map((d) => DIRECTIONS[d] || d).join(t(", ")) },
          { label: t("Price per Segment (USD)"), cell: prices },
          { label: t("Status"), cell: (c) => (c.paused ? statusBadge("locked", t("Paused")) : statusBadge("enabled", t("Sending"))) },
          {
            label: t("Operation"),
            cell: (c) =>
              button(c.paused ? t("Resume") : t("Pause"), () => pauseOrResume(c), {
                kind: "link",
                "aria-label": c.paused ? t("Resume {route}", { route: c.route_id }) : t("Pause {route}", { route: c.route_id }),
              }),
          },
        ],
        channels,
        { empty: t("No business channel yet: add one with `cloudsms channel-add`.") },
      ),
    );
  }

  main.append(
    panel(
      t("Channels"),
      h(
        "p",
        { class: "hint" },
        t("Add a channel and change its gateway's credentials, prices or limits with the cloudsms command or the admin API (README: Configuring a carrier channel); grant it to a tenant on the Tenants page."),
      ),
      errors,
      rows,
    ),
  );
  await show();
}
