// A mission's detail: what it sends, its progress, its messages, abnormal data and
// blacklisted numbers; a scheduled mission can be cancelled here.

import { call, get } from "../api.js";
import { t } from "../i18n.js";
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
import { dispatchingDate, missionStatus } from "./missions.js";

function facts(pairs) {
  return h("dl", { class: "facts" }, pairs.filter(([, v]) => v !== null && v !== undefined && v !== "").map(([term, v]) => [h("dt", {}, term), h("dd", {}, v)]));
}

/** "[CloudSMS] (start of SMS)": the signature and where it goes. */
function signatureAt(mission) {
  const values = { signature: mission.signature };
  return mission.signature_position === "end" ? t("{signature} (end of SMS)", values) : t("{signature} (start of SMS)", values);
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
      { class: "progress", role: "img", "aria-label": t("{delivered} delivered, {failed} failed, {pending} awaiting a receipt of {total}", {
          delivered: p.delivered,
          failed: p.failed,
          pending: p.pending,
          total: mission.phone_number_amount,
        }),
      },
      h("span", { class: "bar good", style: `width:${share(p.delivered)}` }),
      h("span", { class: "bar bad", style: `width:${share(p.failed)}` }),
      h("span", { class: "bar muted", style: `width:${share(p.no_notification)}` }),
    ),
    h(
      "dl",
      { class: "facts inline", "aria-label": t("Progress") },
      [
        [t("Phone Number Amount"), mission.phone_number_amount],
        [t("Submitted"), p.submitted],
        [t("Delivery Success"), p.delivered],
        [t("Delivery Failure"), p.failed],
        [t("No Delivery Notification"), p.no_notification],
        // as the overview says it: the log's "Pending" is a message not yet handed over
        [t("Awaiting Receipt"), p.pending],
        [t("Failure Amount (abnormal rows)"), mission.failure_amount],
        [t("Blacklist numbers"), mission.blacklist_amount],
      ].map(([term, v]) => [h("dt", {}, term), h("dd", {}, String(v))]),
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
    button(t("Back to list"), () => navigate("missions")),
    button(t("Refresh"), () => render({ main: clear(main), params, account, navigate })),
  );
  if (mission.status === "Scheduled") {
    actions.append(
      button(
        t("Cancel mission"),
        async () => {
          const sure = await confirmDialog(
            t("Cancel this mission?"),
            t("\"{name}\" will not be sent. This cannot be undone.", { name: mission.name }),
            t("Cancel mission"),
          );
          if (!sure) return;
          try {
            await call("POST", `${path}/cancel`);
            notify("success", t("Mission \"{name}\" was cancelled.", { name: mission.name }));
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
    : t("On submit");
  const detail = tabs(t("Mission data"), [
    {
      label: t("Messages"),
      render: (c) =>
        pagedTab(
          c,
          t("Mission messages"),
          `${path}/messages`,
          [
            { label: t("Seq No."), cell: (_, i) => i + 1 },
            { label: t("Country Code"), cell: (m) => m.country_code },
            { label: t("Phone Number"), cell: (m) => m.phone_number, class: "nowrap" },
            { label: t("SMS Content"), cell: (m) => m.text, class: "text" },
            { label: t("Segment Quantity"), cell: (m) => m.segments, class: "num" },
            { label: t("UID"), cell: (m) => h("code", {}, m.uid) },
            { label: t("SMS Status"), cell: (m) => statusBadge(m.status, SMS_STATUSES[m.status] || m.status) },
            { label: t("DR State"), cell: (m) => m.dr_state },
            { label: t("Receive Time"), cell: (m) => formatTime(m.receipt_at, zone), class: "nowrap" },
          ],
          t("No message has been submitted yet."),
        ),
    },
    {
      label: t("Abnormal Data"),
      render: (c) =>
        pagedTab(
          c,
          t("Abnormal data"),
          `${path}/abnormal`,
          [
            { label: t("Row"), cell: (a) => a.row },
            { label: t("Value"), cell: (a) => (a.raw === null || a.raw === undefined ? "" : String(a.raw)) },
            { label: t("Reason"), cell: (a) => a.reason },
          ],
          t("No abnormal rows."),
        ),
    },
    {
      label: t("Blacklist Details"),
      render: (c) =>
        pagedTab(
          c,
          t("Blacklisted numbers"),
          `${path}/blacklisted`,
          [
            { label: t("Row"), cell: (b) => b.row },
            { label: t("Country Code"), cell: (b) => b.country_code },
            { label: t("Phone Number"), cell: (b) => b.phone_number },
          ],
          t("No blacklisted numbers."),
        ),
    },
  ]);

  main.append(
    h("div", { class: "page-head" }, h("h1", {}, mission.name, " ", missionStatus(mission.status)), actions),
    ...(mission.failure_reason ? [h("div", { class: "notice notice-error", role: "alert" }, mission.failure_reason)] : []),
    h(
      "div",
      { class: "grid-2" },
      panel(
        t("Mission"),
        facts([
          [t("Direction"), DIRECTIONS[mission.direction] || mission.direction],
          [t("SMS Type"), SMS_TYPES[mission.sms_type] || mission.sms_type],
          [t("Business Channel"), mission.channel],
          [t("OA"), mission.sender],
          [t("Signature"), mission.signature ? signatureAt(mission) : null],
          [t("SMS Content"), h("span", { class: "pre" }, mission.content)],
          [t("User unsubscribe"), mission.allow_unsubscribe ? t("Allowed") : t("Not allowed")],
          [t("Dispatch Time"), when],
          [t("Dispatching Date"), mission.dispatching_date ? dispatchingDate(mission, zone) : t("Not yet")],
        ]),
      ),
      panel(t("Progress"), progress(mission)),
    ),
    panel(t("Data"), detail.element),
  );
}

function clear(main) {
  main.replaceChildren();
  return main;
}
