// Product Packages (the operator's): the catalogue, the guide's "Product Package Details"
// form to add a package, and a tenant's orders of them: order a package, cancel an order.

import { call, get } from "../api.js";
import { t } from "../i18n.js";
import { button, confirmDialog, field, formatTime, h, notify, onSubmit, pagedRows, panel, radios, select, showError, table, tenantPicker, zoneLabel } from "../ui.js";
import { orderStatus, paymentType, thresholds } from "./orders.js";

const PAYMENT_TYPES = { prepaid: t("Prepaid"), postpaid: t("Post-paid") };
const dash = (value) => (value === null || value === undefined ? "-" : String(value));

/** The terms of a package in a few words: "200 SMS, 30 Day(s)" or "USD100/USD150". */
function terms(p) {
  return p.payment_type === "prepaid" ? t("{amount} SMS, {days} Day(s)", { amount: p.sms_amount, days: p.validity_days }) : thresholds(p);
}

/** A whole number as a number; anything else as typed, for the API to name the problem. */
function whole(text) {
  const value = text.trim();
  if (!value) return null;
  return /^\d+$/.test(value) ? Number(value) : value;
}

/** Every business channel's route id (the API pages them). */
async function routeIds() {
  const ids = [];
  let cursor = null;
  do {
    const page = await get("/v1/admin/channels", { cursor });
    ids.push(...page.channels.map((c) => c.route_id));
    cursor = page.next_cursor;
  } while (cursor);
  return ids;
}

export async function render({ main, account, query, navigate }) {
  const zone = account.time_zone;
  const [channels, catalogue] = await Promise.all([routeIds(), get("/v1/admin/packages")]);
  let packages = catalogue.items;

  // --- the catalogue ---
  const packageRows = h("div", {});
  const packagePager = h("div", {});
  const packageTable = (shown, offset) =>
    packageRows.replaceChildren(
      table(
        t("Product packages"),
        [
          { label: t("Seq No."), cell: (_, i) => i + 1 },
          { label: t("Package ID"), cell: (p) => p.package_id },
          { label: t("Product Name"), cell: (p) => p.product_name },
          { label: t("Business Channel"), cell: (p) => p.channel },
          { label: t("Payment Type"), cell: paymentType },
          { label: t("Total SMS Amount"), cell: (p) => dash(p.sms_amount), class: "num" },
          { label: t("Effective Time of Usage"), cell: (p) => (p.validity_days ? t("{days} Day(s)", { days: p.validity_days }) : "-") },
          { label: t("Threshold for Warning/\u200bProhibiting"), cell: thresholds },
          { label: t("Created"), cell: (p) => formatTime(p.created_at, zone), class: "nowrap" },
        ],
        shown,
        { empty: t("No product package yet: add one below."), offset },
      ),
    );
  async function showPackages() {
    const pager = pagedRows(packages, packageTable);
    packagePager.replaceChildren(pager.element);
    await pager.first();
  }

  // --- the guide's "Product Package Details" ---
  const productName = h("input", { type: "text", name: "product_name", required: true, maxlength: 64 });
  const channel = select(Object.fromEntries(channels.map((c) => [c, c])), { name: "channel", blank: t("Choose a channel"), required: true });
  const smsAmount = h("input", { type: "text", name: "sms_amount", inputmode: "numeric" });
  const validityDays = h("input", { type: "text", name: "validity_days", inputmode: "numeric" });
  const warning = h("input", { type: "text", name: "warning_usd", inputmode: "decimal" });
  const prohibit = h("input", { type: "text", name: "prohibit_usd", inputmode: "decimal" });
  const prepaidTerms = h(
    "div",
    {},
    field(t("SMS Amount"), smsAmount, { required: true, hint: t("SMS bought, counted in billed segments.") }),
    field(t("Validity Days"), validityDays, { required: true, hint: t("Days the SMS may be used after the order.") }),
  );
  const postpaidTerms = h(
    "div",
    { hidden: true },
    field(t("Threshold for Warning (USD)"), warning, { required: true, hint: t("The month's spending on the channel at which the order shows a warning.") }),
    field(t("Threshold for Prohibiting (USD)"), prohibit, { required: true, hint: t("The month's spending at which the channel's sending is refused.") }),
  );
  const chosenType = () => packageForm.querySelector('input[name="payment_type"]:checked').value;
  const showTerms = () => {
    prepaidTerms.hidden = chosenType() !== "prepaid";
    postpaidTerms.hidden = chosenType() !== "postpaid";
  };
  const packageErrors = h("div", {});
  const packageForm = h(
    "form",
    { "aria-label": t("Product Package Details") },
    field(t("Product Name"), productName, { required: true }),
    field(t("Business Channel"), channel, { required: true, hint: t("The channel the package sells: ordering it assigns the channel to the tenant.") }),
    radios(t("Payment Type"), "payment_type", PAYMENT_TYPES, "prepaid", { required: true, onchange: showTerms }),
    prepaidTerms,
    postpaidTerms,
    packageErrors,
    h("div", { class: "form-actions" }, button(t("Add Package"), null, { kind: "primary", type: "submit" })),
  );
  onSubmit(packageForm, async () => {
    const type = chosenType();
    const fields = { product_name: productName.value.trim(), channel: channel.value, payment_type: type };
    if (type === "prepaid") Object.assign(fields, { sms_amount: whole(smsAmount.value), validity_days: whole(validityDays.value) });
    else Object.assign(fields, { warning_usd: warning.value.trim() || null, prohibit_usd: prohibit.value.trim() || null });
    try {
      const created = await call("POST", "/v1/admin/packages", { json: fields });
      packageErrors.replaceChildren();
      // The channel and the payment type stay, for the next package of the same kind.
      for (const input of [productName, smsAmount, validityDays, warning, prohibit]) input.value = "";
      notify("success", t("Package {id} ({name}) added.", { id: created.package_id, name: created.product_name }));
      packages = (await get("/v1/admin/packages")).items;
      await showPackages();
      showPackageChoices();
    } catch (error) {
      showError(packageErrors, error);
    }
  });

  // --- a tenant's orders ---
  const picker = tenantPicker("packages", query, navigate);
  const ordersArea = h("div", {});
  const packageChoice = h("select", { name: "package_id", required: true });
  const showPackageChoices = () =>
    packageChoice.replaceChildren(
      h("option", { value: "" }, t("Choose a package")),
      ...packages.map((p) =>
        h("option", { value: p.package_id }, t("{product} ({id}): {channel}, {terms}", { product: p.product_name, id: p.package_id, channel: p.channel, terms: terms(p) })),
      ),
    );

  await showPackages();
  showPackageChoices();
  main.append(
    h("h1", {}, t("Product Packages")),
    h("section", { class: "panel", "aria-label": t("Packages") }, packageRows, packagePager),
    panel(t("Product Package Details"), packageForm),
    panel(t("Orders of a Tenant"), picker.form, picker.errors, ordersArea),
  );
  if (!picker.tenant) {
    ordersArea.append(h("p", { class: "hint" }, t("Enter a tenant's ID to see its orders and order a package for it.")));
    return;
  }
  const tenant = picker.tenant;
  const ordersPath = `/v1/admin/tenants/${encodeURIComponent(tenant)}/orders`;

  const orderRows = h("div", {});
  const orderPager = h("div", {});
  async function loadOrders() {
    const { items } = await get(ordersPath);
    const pager = pagedRows(items, orderTable);
    orderPager.replaceChildren(pager.element);
    await pager.first();
  }
  const orderTable = (shown, offset) =>
    orderRows.replaceChildren(
      table(
        t("Orders of {tenant}", { tenant }),
        [
          { label: t("Seq No."), cell: (_, i) => i + 1 },
          { label: t("Order Number"), cell: (o) => h("code", { class: "long-id" }, o.order_number) },
          { label: t("Package ID"), cell: (o) => o.package_id },
          { label: t("Product Name"), cell: (o) => o.product_name },
          { label: t("Business Channel"), cell: (o) => o.channel },
          { label: t("Order Time"), cell: (o) => formatTime(o.ordered_at, zone) },
          { label: t("Payment Type"), cell: paymentType },
          { label: t("Total SMS Amount"), cell: (o) => dash(o.sms_amount), class: "num" },
          { label: t("Remaining Amount"), cell: (o) => dash(o.remaining), class: "num" },
          { label: t("Threshold for Warning/\u200bProhibiting"), cell: thresholds },
          { label: t("Status"), cell: orderStatus, class: "wrap" },
          {
            label: t("Operation"),
            cell: (o) =>
              o.status === "cancelled"
                ? "-"
                : button(t("Cancel"), () => cancel(o), { kind: "link danger", "aria-label": t("Cancel order {number}", { number: o.order_number }) }),
          },
        ],
        shown,
        { empty: t("No orders yet."), compact: true, offset },
      ),
    );

  async function cancel(order) {
    const sure = await confirmDialog(
      t("Cancel order {number}?", { number: order.order_number }),
      t(
        "{product} of {tenant} will pay for nothing from now on: its SMS left are not used, and a post-paid order no longer lets the channel send. This cannot be undone.",
        { product: order.product_name, tenant },
      ),
      t("Cancel the order"),
    );
    if (!sure) return;
    try {
      await call("POST", `${ordersPath}/${encodeURIComponent(order.order_number)}/cancel`);
      notify("success", t("Order {number} is cancelled.", { number: order.order_number }));
      await loadOrders();
    } catch (error) {
      notify("error", error.message, error.details);
    }
  }

  const orderErrors = h("div", {});
  const orderForm = h(
    "form",
    { "aria-label": t("Order a package") },
    field(t("Package"), packageChoice, { required: true, hint: t("Ordering a package assigns its channel to the tenant.") }),
    orderErrors,
    h("div", { class: "form-actions" }, button(t("Order"), null, { kind: "primary", type: "submit" })),
  );
  onSubmit(orderForm, async () => {
    try {
      const order = await call("POST", ordersPath, { json: { package_id: packageChoice.value } });
      orderErrors.replaceChildren();
      orderForm.reset();
      notify("success", t("Order {number} placed: {product} for {tenant}.", { number: order.order_number, product: order.product_name, tenant: order.tenant_name }));
      await loadOrders();
    } catch (error) {
      showError(orderErrors, error);
    }
  });

  try {
    await loadOrders();
  } catch (error) {
    // A tenant that does not exist (404): said beside the tenant's id, nothing else shown.
    showError(picker.errors, error);
    return;
  }
  ordersArea.append(orderForm, h("p", { class: "hint" }, t("Times are in {zone} ({offset}).", { zone, offset: zoneLabel(zone) })), orderRows, orderPager);
}
