// SMS / Bulk Dispatching Tool: the mission list, searched by name, direction and status.

import { get } from "../api.js";
import { t } from "../i18n.js";
import {
  DIRECTIONS,
  MISSION_STATUSES,
  Pager,
  button,
  field,
  filterForm,
  formatTime,
  h,
  missionStatusLabel,
  select,
  statusBadge,
  table,
  zoneLabel,
} from "../ui.js";

/** A mission's status badge, with its label in the chosen language (the API's value kept). */
export function missionStatus(status) {
  return statusBadge(status, missionStatusLabel(status));
}

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
  const name = h("input", { type: "search", name: "name", placeholder: t("Please input") });
  const direction = select(DIRECTIONS, { blank: t("All"), name: "direction" });
  const status = select(Object.fromEntries(MISSION_STATUSES.map((s) => [s, missionStatusLabel(s)])), { blank: t("All"), name: "status" });
  const results = h("div", {});
  // The filters of the last search: Next and Go to keep to them (the API's cursor is that
  // search's), whatever is chosen since.
  const readFilters = () => ({ name: name.value.trim(), direction: direction.value, status: status.value });
  let current = readFilters();
  const pager = new Pager(
    (cursor) => get("/v1/missions", { ...current, cursor }),
    (items, offset) => {
      const filtered = current.name || current.direction || current.status;
      const empty = filtered ? t("No mission matches these filters.") : t("No mission yet: click Add to send one.");
      results.replaceChildren(missionTable(items, offset, zone, empty));
    },
  );
  const search = () => {
    current = readFilters();
    return pager.search();
  };
  const form = filterForm(t("Search missions"), [field(t("Mission Name"), name), field(t("Direction"), direction), field(t("Status"), status)], search, {
    extra: [
      button(t("Add"), () => navigate("missions/new"), { kind: "success" }),
      button(t("Refresh"), search, { title: t("Statuses change while a mission is sent") }),
    ],
  });
  main.append(h("h1", {}, t("Bulk Dispatching Tool")), h("section", { class: "panel" }, form, results, pager.element));
  await pager.first();
}

function missionTable(items, offset, zone, empty) {
  return table(
    t("Missions"),
    [
      { label: t("Seq No."), cell: (_, i) => i + 1 },
      { label: t("Mission Name"), cell: (m) => m.name },
      { label: t("Direction"), cell: (m) => DIRECTIONS[m.direction] || m.direction },
      { label: t("Dispatching Date"), cell: (m) => dispatchingDate(m, zone), class: "nowrap" },
      { label: t("Phone Number Amount"), cell: (m) => m.phone_number_amount, class: "num" },
      { label: t("Failure Amount"), cell: (m) => m.failure_amount, class: "num" },
      { label: t("Blacklist numbers"), cell: (m) => m.blacklist_amount, class: "num" },
      { label: t("Status"), cell: (m) => missionStatus(m.status) },
      {
        label: t("Operation"),
        cell: (m) => h("a", { href: `#/missions/${encodeURIComponent(m.mission_id)}`, "aria-label": t("Detail of {name}", { name: m.name }) }, t("Detail")),
      },
    ],
    items,
    { offset, empty },
  );
}
