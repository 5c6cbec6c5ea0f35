// SMS Statistics / Dispatching Log: every message in a dispatching time range, filtered,
// with the abnormal data and blacklisted numbers of a mission, and an export.

import { call, get } from "../api.js";
import { t } from "../i18n.js";
import {
  Pager,
  SMS_STATUSES,
  SMS_TYPES,
  button,
  field,
  filterForm,
  formatTime,
  h,
  infoDialog,
  localDate,
  notify,
  select,
  statusBadge,
  table,
  tabs,
  zoneLabel,
} from "../ui.js";
import { dispatchingDate } from "./missions.js";

/** The number as the API takes it: "+", the country code, then the number. */
function phoneFilter(countryCode, number) {
  const digits = number.trim();
  if (!digits) return "";
  if (digits.startsWith("+") || !countryCode.trim()) return digits;
  return `+${countryCode.trim().replace(/^\+/, "")}${digits.replace(/^0+/, "")}`;
}

// An export is prepared in the background (a whole mission does not fit in one API
// response): asked for, then polled, every second at first, then every few seconds.
const POLL_MS = [1000, 1000, 1000, 2000, 2000, 3000];
const GIVE_UP_MS = 20 * 60 * 1000;

// Why a prepared export cannot be downloaded, for the statuses the API names (a failed
// one usually says why itself, in its error).
const EXPORT_ENDED = {
  failed: t("The export failed: export again."),
  expired: t("The export has expired: export again."),
};

async function untilPrepared(asked) {
  const started = Date.now();
  let view = asked;
  for (let poll = 0; view.status === "preparing"; poll += 1) {
    if (Date.now() - started > GIVE_UP_MS) {
      throw new Error(t("The export is taking long: try again later, or narrow the filters."));
    }
    await new Promise((resolve) => setTimeout(resolve, POLL_MS[Math.min(poll, POLL_MS.length - 1)]));
    view = await get(`/v1/messages/exports/${encodeURIComponent(asked.export_id)}`);
  }
  if (view.status !== "ready") throw new Error(view.error || EXPORT_ENDED[view.status] || t("The export is {status}: export again.", { status: view.status }));
  return view;
}

export async function render({ main, account, query }) {
  const zone = account.time_zone;
  const from = h("input", { type: "datetime-local", name: "from", step: 1 });
  const to = h("input", { type: "datetime-local", name: "to", step: 1 });
  const countryCode = h("input", { type: "text", name: "country_code", inputmode: "numeric", placeholder: t("e.g. 63"), size: 4, maxlength: 4 });
  const phone = h("input", { type: "text", name: "phone", inputmode: "tel", placeholder: t("Please enter phone number") });
  const uid = h("input", { type: "text", name: "uid", placeholder: t("Please input"), spellcheck: "false" });
  const mission = h("input", { type: "text", name: "mission", placeholder: t("Please input") });
  const status = select(SMS_STATUSES, { blank: t("Total|any status"), name: "status" });
  const smsType = select(SMS_TYPES, { blank: t("Please select"), name: "sms_type" });
  const format = select({ xlsx: ".xlsx", csv: ".csv" }, { value: "xlsx", name: "format" });

  const defaults = () => {
    from.value = query.from || `${localDate(zone, -1)}T00:00:00`;
    to.value = query.to || `${localDate(zone)}T23:59:59`;
    uid.value = query.uid || "";
    mission.value = query.mission || "";
  };
  // The filters of the last search: paging and export keep to them.
  let current = {};
  const readFilters = () => ({
    from: from.value,
    // A "To" without seconds means the whole minute (12:26 takes in 12:26:35): the API
    // reads a time without seconds so.
    to: to.value,
    phone: phoneFilter(countryCode.value, phone.value),
    uid: uid.value.trim(),
    mission: mission.value.trim(),
    status: status.value,
    sms_type: smsType.value,
  });

  const logResults = h("div", {});
  const pager = new Pager(
    async (cursor) => {
      if (cursor) return get("/v1/messages", { ...current, cursor });
      // The log's total is counted apart, so that each page keeps to its read budget.
      const [page, total] = await Promise.all([get("/v1/messages", current), get("/v1/messages/total", current)]);
      return { ...page, ...total };
    },
    (items, offset) => logResults.replaceChildren(logTable(items, offset, zone)),
  );

  // The API exports the dispatching log only: a mission's abnormal data and blacklisted
  // numbers have no export, so Export is off while their tabs are shown.
  let exporting = false;
  let logShown = true;
  const updateExport = () => {
    exportButton.disabled = exporting || !logShown;
    format.disabled = !logShown;
    for (const control of [exportButton, format]) {
      if (logShown) control.removeAttribute("title");
      else control.title = t("Export is for the Dispatching Log tab: abnormal data and blacklist details have no export.");
    }
  };
  const exportButton = button(t("Export"), async () => {
    exporting = true;
    updateExport();
    let preparing = null;
    try {
      const asked = await call("POST", "/v1/messages/exports", { query: { ...current, format: format.value } });
      preparing = notify("info", t("Preparing the export…"));
      const prepared = await untilPrepared(asked);
      preparing.remove();
      // The file's own response names it and asks for it to be saved (Content-Disposition).
      const link = h("a", { href: prepared.download_url });
      document.body.append(link);
      link.click();
      link.remove();
      if (prepared.truncated) {
        notify("info", t("Exported the first {rows} messages only: narrow the filters to export the rest.", { rows: prepared.rows }));
      } else {
        notify("success", t("Exported {rows} message(s).", { rows: prepared.rows }));
      }
    } catch (error) {
      preparing?.remove();
      notify("error", error.message, error.details);
    } finally {
      exporting = false;
      updateExport();
    }
  });

  const sections = tabs(
    t("Dispatching log views"),
    [
      { label: t("Dispatching Log"), render: (c) => c.append(logResults, pager.element) },
      { label: t("Abnormal Data"), render: (c) => missionData(c, "abnormal", current.mission, zone) },
      { label: t("Blacklist Details"), render: (c) => missionData(c, "blacklisted", current.mission, zone) },
    ],
    h("div", { class: "export" }, field(t("Export format"), format), exportButton),
    {
      onchoose: (index) => {
        logShown = index === 0;
        updateExport();
      },
    },
  );

  async function search(event) {
    event?.preventDefault();
    current = readFilters();
    sections.reset();
    // Rows and a total of an earlier search would read as this one's.
    const refused = (message, details) => {
      logResults.replaceChildren();
      pager.element.replaceChildren();
      notify("error", message, details);
    };
    if (current.from && current.to && current.from > current.to) {
      return refused(t("The Dispatching Time is after the To time."));
    }
    // The country code is the phone number's: alone it would search every number.
    if (countryCode.value.trim() && !phone.value.trim()) {
      return refused(t("Enter the phone number that goes with the country code (the log is searched by whole numbers)."));
    }
    try {
      await pager.first();
    } catch (error) {
      refused(error.message, error.details);
    }
  }

  const form = filterForm(
    t("Search the dispatching log"),
    [
      field(t("Dispatching Time ({offset})", { offset: zoneLabel(zone) }), from),
      field(t("To"), to),
      field(t("Country Code"), countryCode),
      field(t("Phone Number"), phone),
      field(t("UID"), uid),
      field(t("Mission Name"), mission),
      field(t("SMS Status"), status),
      field(t("SMS Type"), smsType),
    ],
    search,
    {
      reset: (form) => {
        form.reset();
        query = {};
        defaults();
      },
    },
  );
  defaults();
  current = readFilters();
  main.append(h("h1", {}, t("Dispatching Log")), h("section", { class: "panel" }, form, sections.element));
  await pager.first();
}

// Every CloudSMS message is mobile-terminated: the platform sends, it does not receive.
const P2P_BUSINESS = "MT";

/**
 * A message's details as GET /v1/sms/{uid} answers them now (its state may have moved
 * since the page was read), over the log, which keeps its filters and page. The number
 * is the log's masked one: the answer's full number is not shown.
 */
async function showMessage(entry, zone) {
  let message;
  try {
    message = await get(`/v1/sms/${encodeURIComponent(entry.uid)}`);
  } catch (error) {
    notify("error", error.message, error.details);
    return;
  }
  const facts = [
    [t("UID"), h("code", {}, message.uid)],
    [t("Country Code"), message.country_code],
    [t("Phone Number"), entry.phone_number],
    [t("SMS Content"), message.text],
    [t("Encoding"), message.encoding],
    [t("Segment Quantity"), message.segments],
    [t("SMS Type"), SMS_TYPES[message.sms_type] || message.sms_type],
    [t("Sender ID"), message.sender],
    [t("Route ID"), message.route_id],
    [t("Task Name"), entry.task_name],
    [t("P2P SMS Business"), P2P_BUSINESS],
    [t("SMS Status"), statusBadge(message.status, SMS_STATUSES[message.status] || message.status)],
    [t("DR State"), message.dr_state],
    [t("Error Code"), message.error_code],
    [t("Reason"), message.reason],
    [t("Reference"), message.reference],
    [t("Dispatching Time"), formatTime(message.created_at, zone)],
    [t("Submit Time"), formatTime(message.submitted_at, zone)],
    [t("Receive Time"), formatTime(message.receipt_at, zone)],
  ];
  const shown = (value) => (value === null || value === undefined || value === "" ? "-" : value);
  infoDialog(
    t("SMS Detail"),
    h("dl", { class: "facts", "aria-label": t("Message {uid}", { uid: message.uid }) }, facts.map(([term, value]) => [h("dt", {}, term), h("dd", {}, shown(value))])),
  );
}

function logTable(items, offset, zone) {
  return table(
    t("Dispatching log"),
    [
      { label: t("Seq No."), cell: (_, i) => i + 1 },
      { label: t("Country Code"), cell: (m) => m.country_code },
      { label: t("Phone Number"), cell: (m) => m.phone_number, class: "nowrap" },
      {
        label: t("Time"),
        class: "nowrap",
        cell: (m) =>
          h(
            "div",
            { class: "times" },
            h("span", {}, h("span", { class: "label" }, t("Dispatching Time: ")), formatTime(m.dispatch_time, zone)),
            h("span", {}, h("span", { class: "label" }, t("Receive Time: ")), formatTime(m.receive_time, zone) || "-"),
          ),
      },
      { label: t("SMS Content"), cell: (m) => m.text, class: "text" },
      { label: t("Segment Quantity"), cell: (m) => m.segments, class: "num" },
      { label: t("UID"), cell: (m) => h("code", { class: "long-id" }, m.uid) },
      { label: t("Sender ID"), cell: (m) => m.sender || "" },
      { label: t("Route ID"), cell: (m) => m.route_id },
      { label: t("Task Name"), cell: (m) => m.task_name || "" },
      { label: t("P2P SMS Business"), cell: () => P2P_BUSINESS },
      { label: t("SMS Status"), cell: (m) => statusBadge(m.status, SMS_STATUSES[m.status] || m.status) },
      { label: t("DR State"), cell: (m) => h("span", { title: m.reason || "" }, m.dr_state) },
      {
        label: t("Operation"),
        cell: (m) => button(t("Detail"), () => showMessage(m, zone), { kind: "link", "aria-label": t("Detail of {uid}", { uid: m.uid }) }),
      },
    ],
    items,
    { offset, empty: t("No message matches."), compact: true },
  );
}

const MISSION_DATA = {
  abnormal: {
    caption: t("Abnormal data"),
    empty: t("No abnormal rows."),
    columns: [
      { label: t("Row"), cell: (a) => a.row },
      { label: t("Value"), cell: (a) => (a.raw === null || a.raw === undefined ? "" : String(a.raw)) },
      { label: t("Reason"), cell: (a) => a.reason },
    ],
  },
  blacklisted: {
    caption: t("Blacklist details"),
    empty: t("No blacklisted numbers."),
    columns: [
      { label: t("Row"), cell: (b) => b.row },
      { label: t("Country Code"), cell: (b) => b.country_code },
      { label: t("Phone Number"), cell: (b) => b.phone_number },
    ],
  },
};

/** Abnormal rows and blacklisted numbers belong to a mission's number list: pick one. */
async function missionData(container, kind, name, zone) {
  if (!name) {
    container.append(h("p", { class: "empty-state" }, t("Enter a Mission Name above and search: abnormal data and blacklisted numbers belong to a mission's number list.")));
    return;
  }
  let missions;
  try {
    missions = (await get("/v1/missions", { name, page_size: 100 })).items;
  } catch (error) {
    notify("error", error.message, error.details);
    return;
  }
  if (!missions.length) {
    container.append(h("p", { class: "empty-state" }, t("No mission's name contains \"{name}\".", { name })));
    return;
  }
  const spec = MISSION_DATA[kind];
  const choice = select(Object.fromEntries(missions.map((m) => [m.mission_id, `${m.name} · ${dispatchingDate(m, zone)}`])), { name: `${kind}-mission` });
  const results = h("div", {});
  const pager = new Pager(
    (cursor) => get(`/v1/missions/${encodeURIComponent(choice.value)}/${kind}`, { cursor }),
    (items, offset) => results.replaceChildren(table(spec.caption, [{ label: t("Seq No."), cell: (_, i) => i + 1 }, ...spec.columns], items, { offset, empty: spec.empty })),
  );
  // A page that cannot be read is named in a notice (pager.search), not left blank.
  choice.addEventListener("change", () => pager.search());
  container.append(h("div", { class: "filters compact" }, field(t("Mission"), choice)), results, pager.element);
  await pager.search();
}
