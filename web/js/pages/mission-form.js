// Add Bulk Dispatch SMS Information: the mission form, its preview, and its submission.

import { call, get } from "../api.js";
import { t } from "../i18n.js";
import { analyse, describe, rendered } from "../sms.js";
import {
  DIRECTIONS,
  SMS_TYPES,
  XLSX,
  button,
  counted,
  download,
  field,
  fieldProblem,
  filePick,
  flash,
  h,
  infoDialog,
  missionStatusLabel,
  notify,
  pagedRows,
  panel,
  radios,
  select,
  showError,
  table,
  zoneLabel,
} from "../ui.js";
import { TEMPLATE_COLUMNS } from "./templates.js";

const MAX_FILE_BYTES = 1_048_576;
// How the preview says the number list's columns were matched to the variables (the API's
// values, shown with a label).
const COLUMNS_MATCHED_BY = {
  header: t("header"),
  position: t("position"),
};
// As the API checks them (domain/content.py).
const LIMITS = { name: 30, sender: 15, signature: 20, content: 1500 };
// A sender of digits (after an optional +) is a number, up to 15; any other fits 11 in
// the SMS header (as the API checks it).
const SENDER_WITH_LETTERS = 11;
const senderLimit = (value) => (/^\+?[0-9]*$/.test(value) ? LIMITS.sender : SENDER_WITH_LETTERS);

/** 128 random bits as hex: crypto.randomUUID() needs a secure context, this does not. */
function randomKey() {
  return Array.from(crypto.getRandomValues(new Uint8Array(16)), (byte) => byte.toString(16).padStart(2, "0")).join("");
}

/** The tenant's sending window ("08:00-22:00") as its first and last minute. */
function sendingWindow(account) {
  const [from, to] = account.sending_window.split("-");
  return { from, to };
}

function checkedValue(form, name) {
  const checked = form.querySelector(`input[name="${name}"]:checked`);
  return checked ? checked.value : "";
}

export async function render({ main, navigate, query, refreshAccount }) {
  // Fresh: the operator may have granted a channel since the portal was opened.
  const account = await refreshAccount();
  const zone = account.time_zone;
  // The tenant's own templates, then the operator's common ones ("Default Template").
  const [own, common] = await Promise.all([
    get("/v1/templates", { page_size: 100 }),
    get("/v1/templates/common", { page_size: 100 }),
  ]);
  const templates = [...own.items, ...common.items];
  const byId = Object.fromEntries(templates.map((tpl) => [tpl.template_id, tpl]));

  const name = h("input", { type: "text", name: "name", maxlength: LIMITS.name, required: true, autocomplete: "off" });
  const template = select(Object.fromEntries(templates.map((tpl) => [tpl.template_id, tpl.common ? t("{name} (common)", { name: tpl.name }) : tpl.name])), { blank: t("Please select"), name: "template" });
  // The sender ids registered for the tenant, offered as it types (none: any it likes).
  const senders = h("datalist", { id: "registered-sender-ids" }, account.sender_ids.map((id) => h("option", { value: id })));
  const sender = h("input", { type: "text", name: "sender", maxlength: LIMITS.sender, autocomplete: "off", list: "registered-sender-ids" });
  const signature = h("input", { type: "text", name: "signature", maxlength: LIMITS.signature, autocomplete: "off" });
  // Brackets typed around a signature are not counted (the platform adds its own).
  signature.addEventListener("input", () => {
    signature.maxLength = /^\s*[[【]/.test(signature.value) ? LIMITS.signature + 2 : LIMITS.signature;
  });
  const content = h("textarea", { name: "content", rows: 5, maxlength: LIMITS.content, required: true });
  const unsubscribe = h("input", { type: "checkbox", name: "allow_unsubscribe" });
  const numberList = h("input", { type: "file", id: "number-list", name: "number_list", accept: ".xlsx,.csv" });
  const numberListPick = filePick(numberList, t("Import Number List"));
  const fileInfo = numberListPick.info;
  const channel = select(Object.fromEntries(account.route_ids.map((r) => [r, r])), { blank: t("Please select"), name: "channel", required: true });
  const timer = h("input", { type: "checkbox", name: "timer" });
  const dispatchAt = h("input", { type: "datetime-local", name: "dispatch_at", step: 60, disabled: true });
  const quietHours = h("input", { type: "checkbox", name: "recipient_quiet_hours" });
  const segmentHint = h("p", { class: "hint", id: "content-hint", "aria-live": "polite" });
  const phonePreview = h("div", { class: "sms-bubble", "aria-label": t("SMS preview") });
  const errors = h("div", {});
  const previewArea = h("div", { class: "preview-area" });

  // None chosen, as in the guide: the sender says where the mission goes, as a number of
  // the other direction is not sent (an abnormal row).
  const direction = radios(t("Direction"), "direction", DIRECTIONS, "", { required: true, onchange: update });
  const smsType = radios(t("SMS Type"), "sms_type", SMS_TYPES, "", { required: true, onchange: update });
  const position = radios(t("Signature Position"), "signature_position", { start: t("Start of SMS"), end: t("End of SMS") }, "start", { onchange: update });
  const quietRow = field(t("Recipient quiet hours"), h("label", { class: "checkbox" }, quietHours, " ", t("Hold each message until 08:00-22:00 in the recipient's own time zone")));
  content.setAttribute("aria-describedby", "content-hint");

  const form = h(
    "form",
    { class: "mission-form", "aria-label": t("Add Bulk Dispatch SMS Information"), novalidate: true },
    field(t("Mission Name"), counted(name, LIMITS.name), { required: true }),
    direction,
    field(t("Select Template"), template, {
      extra: h("p", { class: "hint" }, t("For common template, please click:"), " ", button(t("Default Template"), chooseCommon, { kind: "link" })),
    }),
    smsType,
    field(t("OA"), counted(sender, senderLimit), {
      extra: senders,
      hint: account.sender_ids.length
        ? t("The sender id shown on the phone: one registered for you ({senders}), or none for the channel's own.", { senders: account.sender_ids.join(", ") })
        : t("The sender id shown on the phone. The country direction of OA can be customized for reference."),
    }),
    field(t("Signature"), signature, { hint: t("Added in brackets, e.g. [CloudSMS].") }),
    position,
    field(t("SMS Content"), counted(content, LIMITS.content), {
      required: true,
      extra: h("div", {}, segmentHint, phonePreview),
      hint: t("Variables are written ${Name}; each takes its value from the number list's column of that name."),
    }),
    field(t("User unsubscribe"), h("label", { class: "checkbox" }, unsubscribe, " ", t("Allow"))),
    field(t("Destination Number"), numberListPick.element, {
      required: true,
      extra: h(
        "div",
        { class: "hint" },
        h(
          "ul",
          { class: "notes" },
          h(
            "li",
            {},
            t("Please click to download data import template."),
            " ",
            button(t("[Data Import Template.xlsx]"), () => numberListTemplate("xlsx"), { kind: "link" }),
            " ",
            button(t("[Data Import Template.csv]"), () => numberListTemplate("csv"), { kind: "link" }),
          ),
          h("li", {}, t("Upload the phone number list as .xlsx (or .csv). The number of columns after the phone number must match the variables in the SMS content.")),
          h("li", {}, t("For Excel, the cell format must be either \"general\" or \"text\".")),
          h("li", {}, t("Keep the variable columns in the order the variables appear in the SMS content.")),
          h("li", {}, t("The file must not be larger than 1 MB; keep it under 100,000 phone numbers.")),
        ),
      ),
    }),
    field(t("Business Channel"), channel, { required: true }),
    quietRow,
    field(t("Dispatch Timer Setting"), h("label", { class: "checkbox" }, timer, " ", t("Send at a set time")), {
      extra: h(
        "div",
        {},
        h(
          "div",
          { class: "timer-time", hidden: true },
          h("label", { for: "dispatch-at", class: "inline-label" }, t("Dispatch Time ({zone}, {offset})", { zone, offset: zoneLabel(zone) })),
          Object.assign(dispatchAt, { id: "dispatch-at" }),
        ),
        h(
          "ul",
          { class: "notes" },
          h("li", {}, t("Without a dispatch time the SMS is sent as soon as you submit.")),
          h("li", {}, t("To cancel, do so at least 5 minutes before the sending time.")),
          h("li", {}, t("The dispatching time must be within your sending window, {from} to {to} ({zone}).", { ...sendingWindow(account), zone })),
        ),
      ),
    }),
    errors,
    h(
      "div",
      { class: "form-actions" },
      button(t("Preview"), () => submit(true)),
      button(t("Submit"), null, { kind: "primary", type: "submit" }),
      button(t("Cancel"), () => navigate("missions")),
    ),
  );
  form.addEventListener("submit", (event) => {
    event.preventDefault();
    submit(false);
  });
  // A field's problem goes as soon as the field is changed, rather than stay stale; so
  // does a preview, which would describe values no longer in the form (Preview again
  // shows the new ones).
  for (const kind of ["input", "change"]) {
    form.addEventListener(kind, (event) => {
      const row = event.target.closest(".form-row");
      if (row?.classList.contains("invalid")) fieldProblem(row, null);
      previewArea.replaceChildren();
    });
  }
  content.addEventListener("input", update);
  signature.addEventListener("input", update);
  unsubscribe.addEventListener("change", update);
  timer.addEventListener("change", () => {
    dispatchAt.disabled = !timer.checked;
    dispatchAt.parentElement.hidden = !timer.checked;
    if (timer.checked) dispatchAt.focus();
  });
  template.addEventListener("change", () => {
    const chosen = byId[template.value];
    if (!chosen) return;
    content.value = chosen.content;
    const typeRadio = form.querySelector(`input[name="sms_type"][value="${chosen.sms_type}"]`);
    if (typeRadio) typeRadio.checked = true;
    content.dispatchEvent(new Event("input"));
  });
  // After filePick's own listener, which showed the file's name and size.
  numberList.addEventListener("change", () => {
    const file = numberList.files[0];
    const tooLarge = Boolean(file && file.size > MAX_FILE_BYTES);
    if (tooLarge) {
      const values = { name: file.name, size: (file.size / 1024).toFixed(1) };
      fileInfo.textContent = t("{name} · {size} KB - larger than 1 MB: split the list.", values);
    }
    fileInfo.classList.toggle("error-text", tooLarge);
  });

  /** The operator's common templates in a dialog over the form, which keeps what is typed. */
  function chooseCommon() {
    const rows = h("div", {});
    const use = (chosen) => {
      template.value = chosen.template_id;
      template.dispatchEvent(new Event("change"));
      dialog.close();
      content.focus();
    };
    const pager = pagedRows(common.items, (items, offset) =>
      rows.replaceChildren(
        table(
          t("Common templates"),
          [
            ...TEMPLATE_COLUMNS,
            { label: t("Operation"), cell: (tpl) => button(t("Use"), () => use(tpl), { kind: "link", "aria-label": t("Use {name}", { name: tpl.name }) }) },
          ],
          items,
          { offset, empty: t("Your operator has no common template yet.") },
        ),
      ),
    );
    const dialog = infoDialog(t("Default Template"), h("div", {}, rows, pager.element));
    pager.first();
  }

  function update() {
    const text = rendered(content.value, {
      signature: signature.value,
      position: checkedValue(form, "signature_position"),
      direction: checkedValue(form, "direction"),
      unsubscribe: unsubscribe.checked,
    });
    segmentHint.textContent = content.value ? describe(analyse(text)) : "";
    phonePreview.textContent = content.value ? text : "";
    phonePreview.hidden = !content.value;
    quietRow.hidden = checkedValue(form, "sms_type") !== "marketing";
  }

  /** The template's id when the content is still the template's own, else the content. */
  function contentFields() {
    const chosen = byId[template.value];
    if (chosen && chosen.content === content.value) return { template_id: chosen.template_id };
    return { content: content.value };
  }

  async function numberListTemplate(format) {
    const source = contentFields();
    if (!source.template_id && !content.value.trim()) {
      notify("error", t("Write the SMS content first: the template has a column for each of its variables."));
      return;
    }
    try {
      await download("/v1/templates/number-list", { ...source, format }, `Data Import Template.${format}`, format === "xlsx" ? XLSX : "text/csv");
    } catch (error) {
      notify("error", error.message, error.details);
    }
  }

  function formData() {
    const data = new FormData();
    const fields = {
      name: name.value.trim(),
      direction: checkedValue(form, "direction"),
      sms_type: checkedValue(form, "sms_type"),
      channel: channel.value,
      sender: sender.value.trim(),
      signature: signature.value.trim(),
      signature_position: checkedValue(form, "signature_position"),
      allow_unsubscribe: unsubscribe.checked ? "true" : "false",
      ...contentFields(),
    };
    if (timer.checked && dispatchAt.value) fields.dispatch_at = dispatchAt.value;
    if (fields.sms_type === "marketing" && quietHours.checked) fields.recipient_quiet_hours = "true";
    for (const [key, value] of Object.entries(fields)) if (value !== "") data.append(key, value);
    data.append("number_list", numberList.files[0]);
    return data;
  }

  /**
   * What the browser can tell before asking the API (the API checks everything again),
   * each said next to its field too: [row, message] pairs.
   */
  function missing() {
    const file = numberList.files[0];
    const checks = [
      [name, !name.value.trim() && t("Mission Name is required.")],
      [direction, !checkedValue(form, "direction") && t("Choose a Direction.")],
      [smsType, !checkedValue(form, "sms_type") && t("Choose an SMS Type.")],
      [content, !content.value.trim() && t("SMS Content is required.")],
      [numberList, !file ? t("Import a number list (Destination Number).") : file.size > MAX_FILE_BYTES && t("The number list is larger than 1 MB.")],
      [channel, !channel.value && t("Choose a Business Channel.")],
      [timer, timer.checked && !dispatchAt.value && t("Set the dispatch time, or untick Dispatch Timer Setting.")],
    ];
    const problems = [];
    for (const [control, message] of checks) {
      const row = control.closest(".form-row");
      fieldProblem(row, message || null);
      if (message) problems.push([row, message]);
    }
    return problems;
  }

  // A submission sent again unchanged, after an answer that never came (API Gateway's
  // 29 s timeout while the mission was still being created, a dropped connection), carries
  // the same Idempotency-Key: the API then answers the mission it created rather than
  // create and send a second one to every number. A change to any field or to the file
  // makes another submission, with a key of its own.
  let submitted = { what: null, key: null };
  // Sent again while the first is still being created (its answer lost to the timeout,
  // the mission not done yet), the API answers 409 in_progress: a second submission now
  // would only be refused again, the list will show the mission once it is created.
  const STILL_BEING_CREATED = t("This mission is still being created: wait a moment, then look at the mission list before submitting again.");
  function idempotencyKey(data) {
    const what = JSON.stringify(
      [...data.entries()].map(([name, value]) => [name, typeof value === "string" ? value : [value.name, value.size, value.lastModified]]),
    );
    if (submitted.what !== what) submitted = { what, key: randomKey() };
    return submitted.key;
  }

  let busy = false;
  async function submit(preview) {
    if (busy) return;
    const problems = missing();
    if (problems.length) {
      showError(errors, { message: t("Please complete the form."), details: problems.map(([, message]) => message) });
      problems[0][0].querySelector("input, select, textarea").focus();
      return;
    }
    busy = true;
    errors.replaceChildren();
    form.setAttribute("aria-busy", "true");
    try {
      if (preview) {
        const result = await call("POST", "/v1/missions/preview", { form: formData() });
        showPreview(result);
      } else {
        const data = formData();
        const headers = { "Idempotency-Key": idempotencyKey(data) };
        const mission = await call("POST", "/v1/missions", { form: data, headers });
        flash(
          "success",
          t("Mission \"{name}\" submitted: {status}. Refresh the list to follow its status.", {
            name: mission.name,
            status: missionStatusLabel(mission.status),
          }),
        );
        navigate("missions");
      }
    } catch (error) {
      showError(errors, error.code === "in_progress" ? { message: STILL_BEING_CREATED } : error);
    } finally {
      busy = false;
      form.removeAttribute("aria-busy");
    }
  }

  function showPreview(result) {
    const encodings = Object.entries(result.encodings).map(([e, n]) => `${e} × ${n}`).join(", ") || "-";
    previewArea.replaceChildren(
      panel(
        t("Preview"),
        result.payment_refusal
          ? h("div", { class: "notice notice-error", role: "alert" }, t("This mission cannot be sent: {reason}.", { reason: result.payment_refusal }))
          : null,
        h(
          "dl",
          { class: "facts inline", "aria-label": t("Preview counts") },
          h("dt", {}, t("Phone Number Amount")), h("dd", {}, String(result.phone_number_amount)),
          h("dt", {}, t("Failure Amount")), h("dd", {}, String(result.failure_amount)),
          h("dt", {}, t("Blacklist numbers")), h("dd", {}, String(result.blacklist_amount)),
          h("dt", {}, t("Segments")), h("dd", {}, String(result.segments)),
          h("dt", {}, t("Encodings")), h("dd", {}, encodings),
          h("dt", {}, t("Columns matched by")), h("dd", {}, COLUMNS_MATCHED_BY[result.columns_matched_by] || result.columns_matched_by),
        ),
        h("h3", {}, t("Sample messages")),
        table(
          t("Sample messages"),
          [
            { label: t("Row"), cell: (s) => s.row },
            { label: t("Phone Number"), cell: (s) => s.to, class: "nowrap" },
            { label: t("SMS Content"), cell: (s) => s.text, class: "text" },
            { label: t("Encoding"), cell: (s) => (s.ucs2_reason ? h("span", { title: s.ucs2_reason }, s.encoding) : s.encoding) },
            { label: t("Segments"), cell: (s) => s.segments, class: "num" },
          ],
          result.samples,
          { empty: t("No row can be sent.") },
        ),
        h("h3", {}, t("Abnormal data")),
        table(
          t("Abnormal data"),
          [
            { label: t("Row"), cell: (a) => a.row },
            { label: t("Value"), cell: (a) => (a.raw === null || a.raw === undefined ? "" : String(a.raw)) },
            { label: t("Reason"), cell: (a) => a.reason },
          ],
          result.abnormal,
          { empty: t("No abnormal rows.") },
        ),
      ),
    );
    previewArea.scrollIntoView({ behavior: "smooth", block: "start" });
  }

  main.append(h("h1", {}, t("Add Bulk Dispatch SMS Information")), h("section", { class: "panel" }, form), previewArea);
  if (query.template && byId[query.template]) {
    template.value = query.template;
    template.dispatchEvent(new Event("change"));
  }
  update();
  name.focus();
}
