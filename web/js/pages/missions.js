// SMS / Bulk Dispatching Tool: the mission list, searched by name, direction and status.

import { get } from "../api.js";
import {
  DIRECTIONS,
  MISSION_STATUSES,
  Pager,
  button,
  field,
  formatTime,
  h,
  notify,
  select,
  statusBadge,
  table,
  zoneLabel,
} from "../ui.js";

/** When the mission was (or will be) dispatched, as the list shows it. */
export function dispatchingDate(mission, zone) {
  // A mission that failed or was cancelled before any dispatch time was set never had one.
  const never = ["Failed", "Cancelled"].includes(mission.status) && !mission.dispatch_at;
  if (!mission.dispatching_date && never) return "-";
  const moment = mission.dispatching_date || mission.dispatch_at || mission.created_at;
  return `${formatTime(moment, zone)} ${zoneLabel(zone, new Date(moment))}`;
}

export async function render({ main, account, navigate }) {
  const zone = account.time_zone;
  const name = h("input", { type: "search", name: "name", placeholder: "Please input" });
  const direction = select(DIRECTIONS, { blank: "All", name: "direction" });
  const status = select(Object.fromEntries(MISSION_STATUSES.map((s) => [s, s])), { blank: "All", name: "status" });
  const results = h("div", {});
  const pager = new Pager(
    (cursor) =>
      get("/v1/missions", { name: name.value.trim(), direction: direction.value, status: status.value, cursor }),
    (items, offset) => {
      const filtered = name.value.trim() || direction.value || status.value;
      const empty = filtered ? "No mission matches these filters." : "No mission yet: click Add to send one.";
      results.replaceChildren(missionTable(items, offset, zone, empty));
    },
  );
  const search = async (event) => {
    event?.preventDefault();
    try {
      await pager.first();
    } catch (error) {
      notify("error", error.message, error.details);
    }
  };
  const form = h(
    "form",
    { class: "filters", role: "search", "aria-label": "Search missions", onsubmit: search },
    field("Mission Name", name),
    field("Direction", direction),
    field("Status", status),
    h(
      "div",
      { class: "filter-actions" },
      button("Search", null, { kind: "primary", type: "submit" }),
      button("Reset", () => {
        form.reset();
        search();
      }),
      button("Add", () => navigate("missions/new"), { kind: "success" }),
      button("Refresh", search, { title: "Statuses change while a mission is sent" }),
    ),
  );
  main.append(h("h1", {}, "Bulk Dispatching Tool"), h("section", { class: "panel" }, form, results, pager.element));
  await pager.first();
}

function missionTable(items, offset, zone, empty) {
  return table(
    "Missions",
    [
      { label: "Seq No.", cell: (_, i) => i + 1 },
      { label: "Mission Name", cell: (m) => m.name },
      { label: "Direction", cell: (m) => DIRECTIONS[m.direction] || m.direction },
      { label: "Dispatching Date", cell: (m) => dispatchingDate(m, zone), class: "nowrap" },
      { label: "Phone Number Amount", cell: (m) => m.phone_number_amount, class: "num" },
      { label: "Failure Amount", cell: (m) => m.failure_amount, class: "num" },
      { label: "Blacklist numbers", cell: (m) => m.blacklist_amount, class: "num" },
      { label: "Status", cell: (m) => statusBadge(m.status) },
      {
        label: "Operation",
        cell: (m) => h("a", { href: `#/missions/${encodeURIComponent(m.mission_id)}`, "aria-label": `Detail of ${m.name}` }, "Detail"),
      },
    ],
    items,
    { offset, empty },
  );
}
