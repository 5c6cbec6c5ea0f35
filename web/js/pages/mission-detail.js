// A mission's detail: what it sends, its progress, its messages, abnormal data and
// blacklisted numbers; a scheduled mission can be cancelled here.

import { call, get } from "../api.js";
import {
  DIRECTIONS,
  Pager,
  SMS_STATUSES,
  SMS_TYPES,
  button,
  confirmDialog,
  formatTime,
  h,
  notify,
  panel,
  statusBadge,
  table,
  tabs,
  zoneLabel,
} from "../ui.js";
import { dispatchingDate } from "./missions.js";

function facts(pairs) {
  return h("dl", { class: "facts" }, pairs.filter(([, v]) => v !== null && v !== undefined && v !== "").map(([t, v]) => [h("dt", {}, t), h("dd", {}, v)]));
}

function progress(mission) {
  const p = mission.progress;
  const total = Math.max(mission.phone_number_amount, 1);
  const share = (n) => `${((n / total) * 100).toFixed(1)}%`;
  return h(
    "div",
    { class: "progress-block" },
    h(
      "div",
      { class: "progress", role: "img", "aria-label": `${p.delivered} delivered, ${p.failed} failed, ${p.pending} awaiting a receipt of ${mission.phone_number_amount}` },
      h("span", { class: "bar good", style: `width:${share(p.delivered)}` }),
      h("span", { class: "bar bad", style: `width:${share(p.failed)}` }),
      h("span", { class: "bar muted", style: `width:${share(p.no_notification)}` }),
    ),
    h(
      "dl",
      { class: "facts inline", "aria-label": "Progress" },
      [
        ["Phone Number Amount", mission.phone_number_amount],
        ["Submitted", p.submitted],
        ["Delivery Success", p.delivered],
        ["Delivery Failure", p.failed],
        ["No Delivery Notification", p.no_notification],
        // as the overview says it: the log's "Pending" is a message not yet handed over
        ["Awaiting Receipt", p.pending],
        ["Failure Amount (abnormal rows)", mission.failure_amount],
        ["Blacklist numbers", mission.blacklist_amount],
      ].map(([t, v]) => [h("dt", {}, t), h("dd", {}, String(v))]),
    ),
  );
}

function pagedTab(container, caption, path, columns, empty) {
  const results = h("div", {});
  const pager = new Pager(
    (cursor) => get(path, { cursor }),
    (items, offset) => results.replaceChildren(table(caption, columns, items, { offset, empty })),
  );
  container.append(results, pager.element);
  pager.first().catch((error) => notify("error", error.message, error.details));
}

export async function render({ main, params, account, navigate }) {
  const zone = account.time_zone;
  const path = `/v1/missions/${encodeURIComponent(params.id)}`;
  const mission = await get(path);

  const actions = h(
    "div",
    { class: "page-actions" },
    button("Back to list", () => navigate("missions")),
    button("Refresh", () => render({ main: clear(main), params, account, navigate })),
  );
  if (mission.status === "Scheduled") {
    actions.append(
      button(
        "Cancel mission",
        async () => {
          const sure = await confirmDialog("Cancel this mission?", `"${mission.name}" will not be sent. This cannot be undone.`, "Cancel mission");
          if (!sure) return;
          try {
            await call("POST", `${path}/cancel`);
            notify("success", `Mission "${mission.name}" was cancelled.`);
            await render({ main: clear(main), params, account, navigate });
          } catch (error) {
            notify("error", error.message, error.details);
          }
        },
        { kind: "danger" },
      ),
    );
  }

  const when = mission.dispatch_at
    ? `${formatTime(mission.dispatch_at, zone)} ${zoneLabel(zone, new Date(mission.dispatch_at))}`
    : "On submit";
  const detail = tabs("Mission data", [
    {
      label: "Messages",
      render: (c) =>
        pagedTab(
          c,
          "Mission messages",
          `${path}/messages`,
          [
            { label: "Seq No.", cell: (_, i) => i + 1 },
            { label: "Country Code", cell: (m) => m.country_code },
            { label: "Phone Number", cell: (m) => m.phone_number, class: "nowrap" },
            { label: "SMS Content", cell: (m) => m.text, class: "text" },
            { label: "Segment Quantity", cell: (m) => m.segments, class: "num" },
            { label: "UID", cell: (m) => h("code", {}, m.uid) },
            { label: "SMS Status", cell: (m) => statusBadge(m.status, SMS_STATUSES[m.status] || m.status) },
            { label: "DR State", cell: (m) => m.dr_state },
            { label: "Receive Time", cell: (m) => formatTime(m.receipt_at, zone), class: "nowrap" },
          ],
          "No message has been submitted yet.",
        ),
    },
    {
      label: "Abnormal Data",
      render: (c) =>
        pagedTab(
          c,
          "Abnormal data",
          `${path}/abnormal`,
          [
            { label: "Row", cell: (a) => a.row },
            { label: "Value", cell: (a) => (a.raw === null || a.raw === undefined ? "" : String(a.raw)) },
            { label: "Reason", cell: (a) => a.reason },
          ],
          "No abnormal rows.",
        ),
    },
    {
      label: "Blacklist Details",
      render: (c) =>
        pagedTab(
          c,
          "Blacklisted numbers",
          `${path}/blacklisted`,
          [
            { label: "Row", cell: (b) => b.row },
            { label: "Country Code", cell: (b) => b.country_code },
            { label: "Phone Number", cell: (b) => b.phone_number },
          ],
          "No blacklisted numbers.",
        ),
    },
  ]);

  main.append(
    h("div", { class: "page-head" }, h("h1", {}, mission.name, " ", statusBadge(mission.status)), actions),
    ...(mission.failure_reason ? [h("div", { class: "notice notice-error", role: "alert" }, mission.failure_reason)] : []),
    h(
      "div",
      { class: "grid-2" },
      panel(
        "Mission",
        facts([
          ["Direction", DIRECTIONS[mission.direction] || mission.direction],
          ["SMS Type", SMS_TYPES[mission.sms_type] || mission.sms_type],
          ["Business Channel", mission.channel],
          ["OA", mission.sender],
          ["Signature", mission.signature ? `${mission.signature} (${mission.signature_position === "end" ? "end" : "start"} of SMS)` : null],
          ["SMS Content", h("span", { class: "pre" }, mission.content)],
          ["User unsubscribe", mission.allow_unsubscribe ? "Allowed" : "Not allowed"],
          ["Dispatch Time", when],
          ["Dispatching Date", mission.dispatching_date ? dispatchingDate(mission, zone) : "Not yet"],
        ]),
      ),
      panel("Progress", progress(mission)),
    ),
    panel("Data", detail.element),
  );
}

function clear(main) {
  main.replaceChildren();
  return main;
}
