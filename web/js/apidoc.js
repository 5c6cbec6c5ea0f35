// The Web API specification page: web/openapi.json (generated from the handlers by
// scripts/openapi.py) rendered as a readable list of endpoints and schemas.

import { h } from "./ui.js";

const REF = "#/components/schemas/";

/** Text with `code` spans, as the descriptions write them. */
function prose(text) {
  return text.split("`").map((part, i) => (i % 2 ? h("code", {}, part) : part));
}

function refName(ref) {
  return ref.startsWith(REF) ? ref.slice(REF.length) : ref;
}

/** A schema in a few words, with links to the named schemas it uses. */
function typeOf(schema) {
  if (!schema || !Object.keys(schema).length) return "any";
  if (schema.$ref) return h("a", { href: `#schema-${refName(schema.$ref)}` }, refName(schema.$ref));
  const options = schema.anyOf || schema.oneOf;
  if (options) {
    const kinds = options.filter((s) => s.type !== "null");
    const nullable = kinds.length < options.length;
    const parts = kinds.flatMap((s, i) => (i ? [" or ", typeOf(s)] : [typeOf(s)]));
    return h("span", {}, parts, nullable ? " (optional)" : "");
  }
  // A form: the named schema's fields and the parts added to them (the file).
  if (schema.allOf) return h("span", {}, schema.allOf.flatMap((s, i) => (i ? [" and ", typeOf(s)] : [typeOf(s)])));
  if (schema.properties) {
    const fields = Object.entries(schema.properties);
    return h("span", {}, fields.flatMap(([name, s], i) => [i ? ", " : "", h("code", {}, name), " (", typeOf(s), ")"]));
  }
  if (schema.enum) return `one of: ${schema.enum.join(", ")}`;
  if (schema.type === "array") return h("span", {}, "array of ", typeOf(schema.items || {}));
  const limits = [];
  if (schema.minLength !== undefined) limits.push(`≥ ${schema.minLength} chars`);
  if (schema.maxLength !== undefined) limits.push(`≤ ${schema.maxLength} chars`);
  if (schema.minimum !== undefined) limits.push(`≥ ${schema.minimum}`);
  if (schema.maximum !== undefined) limits.push(`≤ ${schema.maximum}`);
  const format = schema.format ? ` (${schema.format})` : "";
  return `${schema.type || "object"}${format}${limits.length ? `, ${limits.join(", ")}` : ""}`;
}

function parameters(operation) {
  const list = operation.parameters || [];
  if (!list.length) return null;
  return h(
    "div",
    { class: "table-wrap" },
    h(
      "table",
      { class: "data" },
      h("caption", { class: "visually-hidden" }, "Parameters"),
      h("thead", {}, h("tr", {}, ["Parameter", "In", "Type", "Description"].map((t) => h("th", { scope: "col" }, t)))),
      h(
        "tbody",
        {},
        list.map((p) =>
          h(
            "tr",
            {},
            h("td", {}, h("code", {}, p.name), p.required ? h("span", { class: "error-text" }, " *") : ""),
            h("td", {}, p.in),
            h("td", {}, typeOf(p.schema)),
            h("td", {}, prose(p.description || (p.schema && p.schema.description) || "")),
          ),
        ),
      ),
    ),
  );
}

function requestBody(operation) {
  const body = operation.requestBody;
  if (!body) return null;
  return h(
    "p",
    {},
    h("strong", {}, "Request body: "),
    Object.entries(body.content || {}).flatMap(([type, media], i) => [i ? "; " : "", h("code", {}, type), " ", typeOf(media.schema)]),
  );
}

/** A success's JSON body, named: the schema (below) that says its fields. */
function answered(code, response) {
  const json = (response.content || {})["application/json"];
  if (!code.startsWith("2") || !json || !json.schema || !json.schema.$ref) return [];
  return [" ", typeOf(json.schema)];
}

function responses(operation) {
  return h(
    "p",
    {},
    h("strong", {}, "Responses: "),
    Object.entries(operation.responses || {})
      .sort(([a], [b]) => a.localeCompare(b))
      .flatMap(([code, response], i) => [i ? ", " : "", h("code", {}, code), ` ${response.description || ""}`, ...answered(code, response)]),
  );
}

function operationBlock(method, path, operation, webhook = false) {
  const open = !webhook && operation.security && !operation.security.length;
  return h(
    "details",
    { class: "operation", id: operation.operationId },
    h(
      "summary",
      {},
      h("span", { class: `method method-${method}` }, method.toUpperCase()),
      h("code", {}, path),
      open ? h("span", { class: "muted" }, "no API key; at the receipt URL") : null,
      webhook ? h("span", { class: "muted" }, "we call your callback URL") : null,
    ),
    h(
      "div",
      { class: "body" },
      operation.description ? h("p", {}, prose(operation.description)) : null,
      parameters(operation),
      requestBody(operation),
      responses(operation),
    ),
  );
}

function schemaBlock(name, schema) {
  const properties = Object.entries(schema.properties || {});
  const required = new Set(schema.required || []);
  return h(
    "section",
    { class: "panel", id: `schema-${name}`, "aria-labelledby": `schema-${name}-title` },
    h("h3", { id: `schema-${name}-title` }, name),
    schema.description ? h("p", {}, schema.description) : null,
    schema.enum ? h("p", {}, `One of: ${schema.enum.map((v) => `"${v}"`).join(", ")}`) : null,
    properties.length
      ? h(
          "div",
          { class: "table-wrap" },
          h(
            "table",
            { class: "data" },
            h("caption", { class: "visually-hidden" }, `${name} fields`),
            h("thead", {}, h("tr", {}, ["Field", "Type", "Description"].map((t) => h("th", { scope: "col" }, t)))),
            h(
              "tbody",
              {},
              properties.map(([field, s]) =>
                h(
                  "tr",
                  {},
                  h("td", {}, h("code", {}, field), required.has(field) ? h("span", { class: "error-text" }, " *") : ""),
                  h("td", {}, typeOf(s), s.default !== undefined ? ` (default ${JSON.stringify(s.default)})` : ""),
                  h("td", {}, s.description || ""),
                ),
              ),
            ),
          ),
        )
      : null,
  );
}

async function start() {
  const root = document.getElementById("doc");
  let spec;
  try {
    spec = await (await fetch("openapi.json")).json();
  } catch {
    root.replaceChildren(h("p", { role: "alert" }, "The specification could not be loaded."));
    return;
  }
  const byTag = new Map(spec.tags.map((t) => [t.name, []]));
  for (const [path, item] of Object.entries(spec.paths)) {
    for (const [method, operation] of Object.entries(item)) {
      const tag = (operation.tags || ["Other"])[0];
      if (!byTag.has(tag)) byTag.set(tag, []);
      byTag.get(tag).push([method, path, operation]);
    }
  }
  const describeTag = Object.fromEntries(spec.tags.map((t) => [t.name, t.description]));
  const server = spec.servers[0].variables.api;
  const page = h(
    "div",
    {},
    h(
      "header",
      {},
      h("p", {}, h("a", { href: "index.html" }, "← Back to the portal")),
      h("h1", {}, `${spec.info.title} `, h("span", { class: "muted" }, `v${spec.info.version}`)),
      h("p", {}, prose(spec.info.description)),
      h(
        "p",
        {},
        h("strong", {}, "Base URL: "),
        h("code", {}, window.location.origin),
        " here. Deployed: ",
        prose(server.description),
        ". ",
        h("a", { href: "openapi.json" }, "OpenAPI document (JSON)"),
      ),
    ),
    h("nav", { "aria-label": "Contents" }, h("h2", {}, "Contents"), h("ul", {}, [...byTag.keys()].map((tag) => h("li", {}, h("a", { href: `#tag-${tag.replace(/\W+/g, "-")}` }, tag))), h("li", {}, h("a", { href: "#webhooks" }, "Status callbacks")), h("li", {}, h("a", { href: "#schemas" }, "Schemas")))),
    [...byTag.entries()].map(([tag, operations]) =>
      h(
        "section",
        { id: `tag-${tag.replace(/\W+/g, "-")}`, "aria-label": tag },
        h("h2", {}, tag),
        describeTag[tag] ? h("p", { class: "muted" }, describeTag[tag]) : null,
        operations.map(([method, path, operation]) => operationBlock(method, path, operation)),
      ),
    ),
    h(
      "section",
      { id: "webhooks", "aria-label": "Status callbacks" },
      h("h2", {}, "Status callbacks"),
      h("p", { class: "muted" }, "What CloudSMS POSTs to the callback URL you register with ", h("code", {}, "PUT /v1/callback")),
      Object.entries(spec.webhooks || {}).flatMap(([name, item]) =>
        Object.entries(item).map(([method, operation]) => operationBlock(method, name, operation, true)),
      ),
    ),
    h(
      "section",
      { id: "schemas", "aria-label": "Schemas" },
      h("h2", {}, "Schemas"),
      Object.entries(spec.components.schemas).map(([name, schema]) => schemaBlock(name, schema)),
    ),
  );
  root.replaceChildren(page);
  root.setAttribute("aria-busy", "false");
}

start();
