// Small building blocks for the pages: elements, tables, pagers, forms, notices, files.

import { call, session } from "./api.js";
import { LANGUAGES, chooseLanguage, language, t } from "./i18n.js";

/** An element: attributes (on* are listeners), then children (strings become text). */
export function h(tag, attributes = {}, ...children) {
  const element = document.createElement(tag);
  for (const [name, value] of Object.entries(attributes)) {
    if (value === undefined || value === null || value === false) continue;
    if (name.startsWith("on") && typeof value === "function") {
      element.addEventListener(name.slice(2).toLowerCase(), value);
    } else if (name === "class") {
      element.className = value;
    } else if (name === "style") {
      element.style.cssText = value; // the page's policy refuses a style attribute, not this
    } else if (name in element && typeof value !== "string") {
      element[name] = value;
    } else {
      element.setAttribute(name, value === true ? "" : value);
    }
  }
  append(element, children);
  return element;
}

function append(element, children) {
  for (const child of children.flat(Infinity)) {
    if (child === undefined || child === null || child === false) continue;
    element.append(child instanceof Node ? child : document.createTextNode(String(child)));
  }
}

/**
 * The guide's "English ▾": the portal's language, chosen here (the page loads again in it).
 * The arrow keys on the closed menu change its value at once, option by option: taken as
 * a choice, a keyboard user looking at the languages would have the page loaded again in
 * the first one (a form's typed values lost). So a choice made with those keys is applied
 * with Enter; one made in the open list (a click, or Alt+↓ or Space, then Enter there) at
 * once. Left unapplied, the menu shows the portal's language again.
 */
const STEPPING_KEYS = new Set(["ArrowUp", "ArrowDown", "ArrowLeft", "ArrowRight", "Home", "End", "PageUp", "PageDown"]);

export function languageMenu() {
  // Whether the value shown was stepped to on the closed menu, not chosen yet.
  let keyed = false;
  const menu = h(
    "select",
    {
      class: "language",
      "aria-label": t("Language"),
      onkeydown: (event) => {
        if (event.key === "Enter") {
          event.preventDefault();
          chooseLanguage(menu.value);
        } else {
          // A letter steps too (to the language it starts); Alt+↓ and Space open the list.
          keyed = !event.altKey && (STEPPING_KEYS.has(event.key) || (event.key.length === 1 && event.key !== " "));
        }
      },
      onpointerdown: () => {
        keyed = false;
      },
      onchange: () => {
        if (!keyed) chooseLanguage(menu.value);
      },
      onblur: () => {
        keyed = false;
        menu.value = language;
      },
    },
    LANGUAGES.map((l) => h("option", { value: l.code, selected: l.code === language ? "selected" : false, lang: l.code }, l.label)),
  );
  return menu;
}

let counter = 0;
export const uniqueId = (prefix) => `${prefix}-${++counter}`;

// --- words the portal shows ------------------------------------------------------------

// Keyed by the API's values; the labels are in the chosen language.
export const DIRECTIONS = {
  mainland_china: t("Mainland China"),
  international: t("Other Countries/Regions"),
};
export const SMS_TYPES = {
  verify_code: t("Verify Code"),
  business: t("Business SMS"),
  marketing: t("Marketing SMS"),
};
// A mission's statuses are the API's values as they are (a search sends one); show one
// with its label.
export const MISSION_STATUSES = ["Scheduled", "Unsent", "Sending", "Sent", "Cancelled", "Failed", "Uploading"];
export const MISSION_STATUS_LABELS = {
  Scheduled: t("Scheduled"),
  Unsent: t("Unsent"),
  Sending: t("Sending"),
  Sent: t("Sent"),
  Cancelled: t("Cancelled"),
  // An SMS that failed is 发送失败, a mission 失败: the mission's word has a key of its own,
  // which English shows as the API's value.
  Failed: t("Failed|mission"),
  Uploading: t("Uploading"),
};
/** A mission's status as shown: its label, or the API's value for one the portal does not know. */
export const missionStatusLabel = (status) => MISSION_STATUS_LABELS[status] || status;
export const SMS_STATUSES = {
  pending: t("Pending"),
  sent: t("Sent"),
  delivered: t("Delivered"),
  failed: t("Failed"),
  no_notification: t("No Delivery Notification"),
};

// --- time, in the tenant's zone --------------------------------------------------------

/** "UTC+8" for Asia/Shanghai: the zone as the carrier portal labels its times. */
export function zoneLabel(zone, at = new Date()) {
  const part = new Intl.DateTimeFormat("en-US", { timeZone: zone, timeZoneName: "shortOffset" })
    .formatToParts(at)
    .find((p) => p.type === "timeZoneName");
  const offset = part ? part.value.replace("GMT", "") : "";
  return `UTC${offset || "+0"}`;
}

function parts(date, zone) {
  const values = {};
  for (const part of new Intl.DateTimeFormat("en-CA", {
    timeZone: zone,
    hourCycle: "h23",
    year: "numeric",
    month: "2-digit",
    day: "2-digit",
    hour: "2-digit",
    minute: "2-digit",
    second: "2-digit",
  }).formatToParts(date)) {
    values[part.type] = part.value;
  }
  return values;
}

/** "2021-11-25 11:27:37" in `zone`; "" for no time. */
export function formatTime(iso, zone) {
  if (!iso) return "";
  const p = parts(new Date(iso), zone);
  return `${p.year}-${p.month}-${p.day} ${p.hour}:${p.minute}:${p.second}`;
}

/**
 * A wall time in `zone` with that zone's offset at it ("2021-11-25T00:00:00+08:00"): how
 * the portal asks an API that reads a time without an offset as UTC (the audit trail's)
 * for a date the user chose in the tenant's zone. `time` is "HH:MM:SS" with any fraction.
 * A wall time the clocks skip (a summer time starting at midnight, as Santiago's) is the
 * moment after the skip, where the day starts, and one they show twice (a summer time
 * ending) its first moment; with `last` (a day's end), the moment before the skip, and
 * the second moment.
 */
export function zonedTime(date, time, zone, { last = false } = {}) {
  const [year, month, day] = date.split("-").map(Number);
  const [hour, minute, second] = time.split(":").map(Number);
  const wall = Date.UTC(year, month - 1, day, hour, minute, Math.floor(second));
  // The zone's offset at an instant: its wall clock then, less UTC's.
  const offsetAt = (instant) => {
    const p = parts(new Date(instant), zone);
    return Date.UTC(+p.year, +p.month - 1, +p.day, +p.hour, +p.minute, +p.second) - instant;
  };
  // The zone's offsets a day either side of the wall time read as UTC (within 14 hours of
  // the real instant): a change of offset at the wall time is between them. Those at
  // which the wall time shows are its instants: none, one, or two.
  const DAY = 86_400_000;
  const around = [offsetAt(wall - DAY), offsetAt(wall + DAY)];
  const shows = around.filter((offset) => offsetAt(wall - offset) === offset);
  // The smaller offset is the later instant.
  const later = (offsets) => Math.min(...offsets);
  const earlier = (offsets) => Math.max(...offsets);
  let offset;
  if (shows.length) offset = last ? later(shows) : earlier(shows);
  else offset = last ? earlier(around) : later(around); // skipped: the instant after, or before
  const minutes = Math.abs(offset) / 60_000;
  const pad = (n) => String(n).padStart(2, "0");
  return `${date}T${time}${offset < 0 ? "-" : "+"}${pad(Math.floor(minutes / 60))}:${pad(minutes % 60)}`;
}

/** Today's date ("2021-11-25") in `zone`, shifted by `days`. */
export function localDate(zone, days = 0) {
  const p = parts(new Date(), zone);
  const date = new Date(Date.UTC(+p.year, +p.month - 1, +p.day + days));
  return date.toISOString().slice(0, 10);
}

// --- feedback ---------------------------------------------------------------------------

/**
 * A message at the top of the page: "success" and "info" are polite, "error" is an alert.
 * It replaces the page's earlier notices, a form's error box too: they told of an earlier
 * action, and left on screen they read as this one's.
 */
export function notify(kind, message, details = []) {
  clearNotices();
  const area = document.getElementById("notices");
  const box = h(
    "div",
    { class: `notice notice-${kind}`, role: kind === "error" ? "alert" : "status" },
    h("span", {}, message),
    extraDetails(message, details).length ? h("ul", {}, extraDetails(message, details).map((d) => h("li", {}, describeDetail(d)))) : null,
    h("button", { type: "button", class: "notice-close", "aria-label": t("Dismiss"), onclick: () => box.remove() }, "×"),
  );
  // It stays until the next notice, its ×, or another page: one may read slowly or hear
  // it late (a notice leaving on a timer fails WCAG 2.2.1).
  area.append(box);
  return box;
}

// Notices for the next page: navigating rebuilds the frame, and with it the notice area.
const flashes = [];

/** A notice shown on the page the portal goes to next. */
export function flash(kind, message) {
  flashes.push([kind, message]);
}

export function showFlashes() {
  for (const [kind, message] of flashes.splice(0)) notify(kind, message);
}

/** Removes the page's notices: those at the top and the forms' error boxes. */
export function clearNotices() {
  document.getElementById("notices")?.replaceChildren();
  for (const box of document.querySelectorAll(".form-notice")) box.remove();
}

/** The details worth listing under a message: none when the message is the only one. */
function extraDetails(message, details = []) {
  if (details.length === 1 && describeDetail(details[0]) === message) return [];
  return details;
}

function describeDetail(detail) {
  if (typeof detail !== "object" || detail === null) return String(detail);
  const where = detail.field || (detail.row ? t("row {row}", { row: detail.row }) : detail.to || detail.number || "");
  const what = detail.reason || detail.message || JSON.stringify(detail);
  return where ? `${where}: ${what}` : what;
}

/** An error box inside a form or panel; like notify(), it replaces the page's notices. */
export function showError(container, error) {
  clearNotices();
  container.replaceChildren(
    h(
      "div",
      { class: "notice notice-error form-notice", role: "alert" },
      h("span", {}, error.message || String(error)),
      extraDetails(error.message, error.details).length ? h("ul", {}, extraDetails(error.message, error.details).slice(0, 20).map((d) => h("li", {}, describeDetail(d)))) : null,
    ),
  );
}

// --- layout pieces ----------------------------------------------------------------------

export function panel(title, ...children) {
  const headingId = uniqueId("panel");
  return h("section", { class: "panel", "aria-labelledby": headingId }, h("h2", { id: headingId }, title), ...children);
}

const LABELABLE = "input, select, textarea";

/** A labelled form row: the label names the control for screen readers and tests. */
export function field(label, control, { required = false, hint = null, extra = null } = {}) {
  const labelled = control.matches(LABELABLE) ? control : control.querySelector(LABELABLE);
  if (!labelled.id) labelled.id = uniqueId("field");
  // The label's "*" is drawn, not said: a screen reader is told here (the control may not
  // carry `required`, a form that checks it in its own words).
  if (required && !labelled.readOnly) labelled.setAttribute("aria-required", "true");
  return h(
    "div",
    { class: "form-row" },
    h("label", { for: labelled.id, class: required ? "required" : "" }, label),
    h("div", { class: "form-control" }, control, extra, hint ? h("p", { class: "hint" }, hint) : null),
  );
}

/**
 * A file input shown as a button and the chosen file's name, both in the portal's language
 * (the browser's own "Choose File" and "No file chosen" are in the browser's). `info`
 * shows the file, and a page may write more in it; `show()` writes it again, after a
 * form's reset() (which empties the input without a change event).
 */
export function filePick(input, buttonLabel) {
  if (!input.id) input.id = uniqueId("file");
  input.classList.add("file-input");
  const info = h("span", { class: "file-info" }, t("No file chosen"));
  const show = () => {
    const file = input.files[0];
    info.textContent = file ? t("{name} · {size} KB", { name: file.name, size: (file.size / 1024).toFixed(1) }) : t("No file chosen");
  };
  input.addEventListener("change", show);
  const element = h("div", { class: "file-pick" }, input, h("label", { for: input.id, class: "btn btn-default" }, buttonLabel), info);
  return { element, info, show };
}

/**
 * What a form row lacks, said under its control (and read out with it); null clears it.
 * The row is what field() or radios() made.
 */
export function fieldProblem(row, message) {
  const described = row.matches("fieldset") ? row : row.querySelector(LABELABLE);
  const old = row.querySelector(".field-error");
  const others = (described.getAttribute("aria-describedby") || "").split(" ").filter((id) => id && id !== old?.id);
  old?.remove();
  row.classList.toggle("invalid", Boolean(message));
  if (message) {
    const note = h("p", { class: "hint error-text field-error", id: uniqueId("problem") }, message);
    row.querySelector(".form-control").append(note);
    others.unshift(note.id); // read first, before a character count
  }
  // Said with the control (or the radio group), as its red border shows it.
  if (message) described.setAttribute("aria-invalid", "true");
  else described.removeAttribute("aria-invalid");
  if (others.length) described.setAttribute("aria-describedby", others.join(" "));
  else described.removeAttribute("aria-describedby");
}

/**
 * A form's submission, `send()`, one at a time: its submit button is off until the API
 * has answered, so that a double-click (or Enter pressed again) sends it once. A second
 * order or package would be a real one; a second template or account a refusal that
 * replaces the first one's notice. The button is marked off (aria-disabled), not
 * disabled: a disabled button loses the focus, which would drop a keyboard user who
 * pressed it back at the top of the page.
 */
export function onSubmit(form, send) {
  let busy = false;
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    if (busy) return;
    busy = true;
    const buttons = [...form.querySelectorAll('button[type="submit"]')];
    for (const submit of buttons) submit.setAttribute("aria-disabled", "true");
    form.setAttribute("aria-busy", "true");
    try {
      await send();
    } finally {
      busy = false;
      for (const submit of buttons) submit.removeAttribute("aria-disabled");
      form.removeAttribute("aria-busy");
    }
  });
}

/**
 * A list's filter form named `label`: its `fields`, then Search (submits, calling
 * `search()`), Reset (`reset(form)`, by default clearing the fields, then `search()`) and
 * any `extra` buttons.
 */
export function filterForm(label, fields, search, { reset = (form) => form.reset(), extra = [] } = {}) {
  const form = h(
    "form",
    {
      class: "filters",
      role: "search",
      "aria-label": label,
      onsubmit: (event) => {
        event.preventDefault();
        search();
      },
    },
    ...fields,
    h(
      "div",
      { class: "filter-actions" },
      button(t("Search"), null, { kind: "primary", type: "submit" }),
      button(t("Reset"), () => {
        reset(form);
        search();
      }),
      ...extra,
    ),
  );
  return form;
}

/**
 * The statistics pages' filters: dispatching dates from and to, yesterday and today in
 * the tenant's zone by default (as the guide's "2021-11-24 - 2021-11-25"); Search and
 * Reset call `search`. `range()` reads the dates.
 */
export function dateRangeFilters(zone, label, search) {
  const from = h("input", { type: "date", name: "from" });
  const to = h("input", { type: "date", name: "to" });
  const defaults = () => {
    from.value = localDate(zone, -1);
    to.value = localDate(zone);
  };
  const form = filterForm(label, [field(t("Dispatching Date from"), from), field(t("to"), to)], search, { reset: defaults });
  defaults();
  // Checked here, in the form's own words, before the API would refuse it.
  const problem = () => (from.value && to.value && from.value > to.value ? t("The first dispatching date is after the last one.") : null);
  return { form, range: () => ({ from: from.value, to: to.value }), problem };
}

/** A row of radio buttons in a fieldset whose legend is the label. */
export function radios(legend, name, options, checked, { required = false, onchange } = {}) {
  return h(
    "fieldset",
    // A radio group, so that it can say it is required (a group cannot).
    { class: "form-row radios", role: required ? "radiogroup" : false, "aria-required": required ? "true" : false },
    h("legend", { class: required ? "required" : "" }, legend),
    h(
      "div",
      { class: "form-control" },
      Object.entries(options).map(([value, label]) =>
        h(
          "label",
          { class: "radio" },
          h("input", { type: "radio", name, value, checked: value === checked, onchange }),
          ` ${label}`,
        ),
      ),
    ),
  );
}

export function select(options, { value = "", blank = null, ...attributes } = {}) {
  const control = h("select", attributes);
  if (blank !== null) control.append(h("option", { value: "" }, blank));
  for (const [optionValue, label] of Object.entries(options)) {
    control.append(h("option", { value: optionValue, selected: optionValue === value }, label));
  }
  return control;
}

/** A text input with a live "n/max" counter after it. */
/** A control with its count of characters; `max` may depend on the value (a function). */
export function counted(control, max) {
  // Read with the control when it is reached, not at each key typed (a live region
  // would talk over the typing).
  const count = h("span", { class: "counter", id: uniqueId("count") });
  const described = (control.getAttribute("aria-describedby") || "").split(" ").filter(Boolean);
  control.setAttribute("aria-describedby", [...described, count.id].join(" "));
  const limit = typeof max === "function" ? max : () => max;
  const update = () => {
    const most = limit(control.value);
    control.maxLength = most;
    count.textContent = `${control.value.length}/${most}`;
    count.classList.toggle("error-text", control.value.length > most);
  };
  control.addEventListener("input", update);
  update();
  return h("div", { class: "counted" }, control, count);
}

export function button(label, onclick, { kind = "default", type = "button", ...attributes } = {}) {
  return h("button", { type, class: `btn btn-${kind}`, onclick, ...attributes }, label);
}

export function statusBadge(status, label = status) {
  const slug = String(status).toLowerCase().replace(/[^a-z]+/g, "-");
  return h("span", { class: `status status-${slug}` }, h("span", { class: "dot", "aria-hidden": "true" }, "●"), label);
}

// --- tables and pages --------------------------------------------------------------------

/** A table named `caption`; each column has a label and a cell(row, index) function. */
export function table(caption, columns, rows, { empty = t("No data"), offset = 0, compact = false } = {}) {
  return h(
    "div",
    { class: "table-wrap" },
    h(
      "table",
      { class: compact ? "data compact" : "data" },
      h("caption", { class: "visually-hidden" }, caption),
      h("thead", {}, h("tr", {}, columns.map((c) => h("th", { scope: "col", class: c.class || "" }, c.label)))),
      h(
        "tbody",
        {},
        rows.length
          ? rows.map((row, i) => h("tr", {}, columns.map((c) => h("td", { class: c.class || "" }, c.cell(row, offset + i)))))
          : h("tr", {}, h("td", { colspan: columns.length, class: "empty" }, empty)),
      ),
    ),
  );
}

/**
 * The guide's pager: "Total 5   10/page   < 1 >   Go to 1". `load(cursor)` answers a
 * page ({items, next_cursor}; the first also {total, total_exact}), `render(items,
 * offset)` shows it. The API gives a next_cursor, so going back needs the cursors seen
 * before, and "Go to" a page not yet seen walks there a page at a time, as Next would.
 */
export class Pager {
  constructor(load, render, pageSize = 10) {
    this.load = load;
    this.render = render;
    this.pageSize = pageSize;
    this.cursors = [null];
    this.next = null;
    this.total = null;
    this.exact = true;
    this.turning = false;
    this.searches = 0;
    this.element = h("nav", { class: "pager", "aria-label": t("Pages") });
  }

  async first() {
    this.searches += 1;
    this.cursors = [null];
    return this.show();
  }

  /** The first page again for a filter form's submit (or a button): a failure is shown
   * as a notice, with what the API named. */
  search = async (event) => {
    event?.preventDefault();
    try {
      await this.first();
    } catch (error) {
      notify("error", error.message, error.details);
    }
  };

  /** The last page there is, when the total says so exactly. */
  lastPage() {
    return this.total !== null && this.exact ? Math.max(1, Math.ceil(this.total / this.pageSize)) : null;
  }

  async show() {
    const search = this.searches;
    const index = this.cursors.length - 1;
    const page = await this.load(this.cursors[index]);
    // A search made while this page loaded has shown its own first page, which stands.
    if (search !== this.searches) return page;
    this.next = page.next_cursor;
    if (page.total !== undefined) {
      this.total = page.total;
      this.exact = page.total_exact !== false;
    }
    this.render(page.items, index * this.pageSize);
    const last = this.lastPage();
    // The pager's controls are made anew: the one that had the focus (Next pressed with
    // the keyboard) gives it to its successor, rather than to the top of the page.
    const focused = this.element.contains(document.activeElement) ? document.activeElement.dataset.pager : null;
    const goTo = h("input", { type: "number", min: 1, max: last ?? undefined, value: index + 1, class: "pager-goto", "aria-label": t("Go to page"), "data-pager": "goto" });
    goTo.addEventListener("change", () => this.goTo(Number(goTo.value)));
    this.element.replaceChildren(
      // "12,345+": at least that many (the API stopped counting).
      this.total === null ? "" : h("span", { class: "pager-total" }, t("Total {n}", { n: `${this.total.toLocaleString("en-US")}${this.exact ? "" : "+"}` })),
      h("span", { class: "pager-size" }, t("{n}/page", { n: this.pageSize })),
      button(t("‹ Previous"), () => this.move(-1), { disabled: index === 0, "aria-label": t("Previous page"), "data-pager": "previous" }),
      h("span", { class: "pager-page", "aria-current": "page" }, last ? t("Page {page} of {last}", { page: index + 1, last }) : t("Page {page}", { page: index + 1 })),
      // The total says when this is the last page, whatever the cursor: the log's page
      // that stops at its read budget gives one though nothing may follow.
      button(t("Next ›"), () => this.move(1), { disabled: !this.next || (last !== null && index + 1 >= last), "aria-label": t("Next page"), "data-pager": "next" }),
      h("label", { class: "pager-goto-label" }, `${t("Go to")} `, goTo),
    );
    if (focused) {
      // Next on the last page is off: Previous is then the way on, and the other way round.
      const other = { next: "previous", previous: "next" }[focused];
      const control = [focused, other].map((name) => this.element.querySelector(`[data-pager="${name}"]`)).find((c) => c && !c.disabled);
      (control || goTo).focus();
    }
    return page;
  }

  async move(step) {
    await this.turn(async () => {
      if (step > 0 && this.next) return [...this.cursors, this.next];
      if (step < 0 && this.cursors.length > 1) return this.cursors.slice(0, -1);
      return this.cursors;
    });
  }

  async goTo(wanted) {
    if (!Number.isFinite(wanted) || wanted < 1) return;
    const target = Math.min(Math.floor(wanted), this.lastPage() ?? Infinity);
    await this.turn(async () => {
      if (target <= this.cursors.length) return this.cursors.slice(0, target);
      // Only the pages seen have cursors: read on from the last of them.
      const cursors = [...this.cursors];
      let page = await this.load(cursors[cursors.length - 1]);
      while (cursors.length < target && page.next_cursor) {
        cursors.push(page.next_cursor);
        if (cursors.length < target) page = await this.load(page.next_cursor);
      }
      return cursors;
    });
  }

  /**
   * Goes to the page `choose()` picks (it answers its cursors), one turn at a time: a
   * double-click on Next, made before the page it asked for is shown, is one step, not
   * two steps from the same cursor (the next page again, numbered one too far). A page
   * that cannot be read leaves the pager on the page shown. A search made meanwhile
   * wins: the turn then neither shows its page nor reports its failure.
   */
  async turn(choose) {
    if (this.turning) return;
    this.turning = true;
    const search = this.searches;
    const shown = this.cursors;
    try {
      const cursors = await choose();
      if (search !== this.searches) return;
      this.cursors = cursors;
      await this.show();
    } catch (error) {
      if (search !== this.searches) return;
      this.cursors = shown;
      notify("error", error.message, error.details);
    } finally {
      this.turning = false;
    }
  }
}

/** The same pager over rows that are all at hand (a report's days, a tenant's orders). */
export function pagedRows(rows, render, pageSize = 10) {
  return new Pager(async (cursor) => {
    const start = cursor ? Number(cursor) : 0;
    const end = start + pageSize;
    return {
      items: rows.slice(start, end),
      next_cursor: end < rows.length ? String(end) : null,
      ...(start === 0 ? { total: rows.length, total_exact: true } : {}),
    };
  }, render, pageSize);
}

/**
 * Tabs with a tablist; `tabs` is [{label, render(container)}]. `extra` goes beside the
 * tabs; `onchoose(index)` is told which tab is shown.
 */
export function tabs(label, items, extra = null, { onchoose = null } = {}) {
  const list = h("div", { role: "tablist", "aria-label": label, class: "tabs" });
  const panels = [];
  const buttons = items.map((item, i) => {
    const tabId = uniqueId("tab");
    const panelElement = h("div", { role: "tabpanel", id: `${tabId}-panel`, "aria-labelledby": tabId, hidden: i !== 0 });
    panels.push(panelElement);
    return h(
      "button",
      {
        type: "button",
        role: "tab",
        id: tabId,
        "aria-controls": `${tabId}-panel`,
        "aria-selected": i === 0 ? "true" : "false",
        tabindex: i === 0 ? "0" : "-1",
        onclick: () => choose(i),
      },
      item.label,
    );
  });
  const rendered = new Set();
  function choose(index) {
    buttons.forEach((b, i) => {
      b.setAttribute("aria-selected", i === index ? "true" : "false");
      b.tabIndex = i === index ? 0 : -1;
      panels[i].hidden = i !== index;
    });
    if (!rendered.has(index)) {
      rendered.add(index);
      items[index].render(panels[index]);
    }
    onchoose?.(index);
  }
  list.addEventListener("keydown", (event) => {
    const current = buttons.findIndex((b) => b.getAttribute("aria-selected") === "true");
    const step = { ArrowRight: 1, ArrowLeft: -1 }[event.key];
    if (step) {
      const next = (current + step + buttons.length) % buttons.length;
      choose(next);
      buttons[next].focus();
    }
  });
  list.append(...buttons);
  choose(0);
  return {
    element: h("div", { class: "tabbed" }, h("div", { class: "tabs-bar" }, list, extra), ...panels),
    reset() {
      rendered.clear();
      const current = buttons.findIndex((b) => b.getAttribute("aria-selected") === "true");
      panels.forEach((p) => p.replaceChildren());
      choose(current);
    },
  };
}

/** A modal dialog: a title, `content`, and the buttons `actions(dialog)` makes. */
function modal(title, content, actions, { wide = false } = {}) {
  const titleId = uniqueId("dialog");
  const dialog = h("dialog", { class: wide ? "dialog dialog-wide" : "dialog", "aria-labelledby": titleId }, h("h2", { id: titleId }, title), content);
  dialog.append(h("div", { class: "actions" }, actions(dialog)));
  dialog.addEventListener("close", () => dialog.remove());
  document.body.append(dialog);
  dialog.showModal();
  return dialog;
}

/** A modal confirmation; resolves true when confirmed. */
export function confirmDialog(title, message, confirmLabel) {
  return new Promise((resolve) => {
    const dialog = modal(title, h("p", {}, message), (self) => [
      button(t("Cancel"), () => self.close("cancel")),
      button(confirmLabel, () => self.close("confirm"), { kind: "danger" }),
    ]);
    dialog.addEventListener("close", () => resolve(dialog.returnValue === "confirm"));
  });
}

/**
 * A modal dialog showing `content` (a message's details, templates to choose from) over
 * the page, which stays as it was: its filters, its form. Returns the dialog (close()).
 */
export function infoDialog(title, content) {
  return modal(title, content, (self) => [button(t("Close"), () => self.close())], { wide: true });
}

// --- the operator's pages ------------------------------------------------------------------

/**
 * The tenant an operator page shows: the one in its address (`?tenant=`, which can be
 * bookmarked), or else the one chosen last. That one is kept for the tab (as the key is):
 * going from one operator page to another, or coming back from another page, shows it
 * again, and its address is given the tenant, so a reload shows it too. "" for none yet.
 */
export function chosenTenant(route, query) {
  const tenant = (query.tenant ?? session.tenant() ?? "").trim();
  session.storeTenant(tenant);
  if (tenant && query.tenant === undefined) {
    // No hashchange: the page is already the one for this tenant.
    history.replaceState(history.state, "", `#/${route}?tenant=${encodeURIComponent(tenant)}`);
  }
  return tenant;
}

/**
 * The operator's choice of a tenant: its id typed, or picked from those offered; the page
 * is shown again for it (see chosenTenant).
 * Returns the form, the tenant chosen ("" for none yet) and a box for the errors of
 * reading it (a tenant that does not exist, say).
 */
export function tenantPicker(route, query, navigate) {
  const tenant = chosenTenant(route, query);
  const input = h("input", { type: "text", name: "tenant", value: tenant, required: true, spellcheck: "false", autocomplete: "off", list: "tenant-ids" });
  // The tenants to pick from, as the operator types; an id typed works without them.
  const choices = h("datalist", { id: "tenant-ids" });
  call("GET", "/v1/admin/tenants")
    .then(({ tenants }) => choices.replaceChildren(...tenants.map((one) => h("option", { value: one.tenant_id, label: one.name }))))
    .catch(() => {});
  const errors = h("div", {});
  const form = h(
    "form",
    {
      class: "filters",
      role: "search",
      "aria-label": t("Choose a tenant"),
      onsubmit: (event) => {
        event.preventDefault();
        const target = `#/${route}?tenant=${encodeURIComponent(input.value.trim())}`;
        // The same address again changes no hash: show the page again all the same.
        if (window.location.hash === target) window.dispatchEvent(new HashChangeEvent("hashchange"));
        else navigate(target.slice(2));
      },
    },
    field(t("Tenant ID"), input),
    choices,
    h("div", { class: "filter-actions" }, button(t("Show"), null, { kind: "primary", type: "submit" })),
  );
  return { form, tenant, errors };
}

/** A read-only text field: the guide shows a value there is no choice of (Account Type). */
export function fixedValue(value) {
  return h("input", { type: "text", value, readonly: true });
}

// --- files --------------------------------------------------------------------------------

function filenameOf(response, fallback) {
  const disposition = response.headers.get("Content-Disposition") || "";
  const match = disposition.match(/filename="?([^";]+)"?/);
  return match ? match[1] : fallback;
}

/** Downloads a file the API returns (it needs the key, so a plain link cannot). */
export async function download(path, query, fallback, accept) {
  const response = await call("GET", path, { query, raw: true, accept });
  const blob = await response.blob();
  const link = h("a", { href: URL.createObjectURL(blob), download: filenameOf(response, fallback) });
  document.body.append(link);
  link.click();
  link.remove();
  setTimeout(() => URL.revokeObjectURL(link.href), 10_000);
  return response;
}

export const XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet";
