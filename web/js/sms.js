// What a text costs, computed as the platform computes it (cloudsms/domain/text.py), and
// the text a recipient receives (cloudsms/domain/content.py), for the form's live hints.

import { t } from "./i18n.js";

const GSM_BASIC =
  "@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞÆæßÉ !\"#¤%&'()*+,-./0123456789:;<=>?" +
  "¡ABCDEFGHIJKLMNOPQRSTUVWXYZÄÖÑÜ§¿abcdefghijklmnopqrstuvwxyzäöñüà";
const GSM_EXTENSION = "^{}\\[~]|€\f";
const BASIC = new Set(GSM_BASIC);
const EXTENSION = new Set(GSM_EXTENSION);

export const GSM7 = "GSM-7";
export const UCS2 = "UCS-2";

const UNSUBSCRIBE = { mainland_china: "回T退订", international: "Reply TD to unsubscribe" };

/** Septets in GSM-7 parts: an extension character (two septets) never straddles two. */
function gsmSegments(units) {
  const total = units.reduce((sum, u) => sum + u, 0);
  if (total <= 160) return { length: total, segments: total ? 1 : 0 };
  let segments = 1;
  let used = 0;
  for (const u of units) {
    if (used + u > 153) {
      segments += 1;
      used = 0;
    }
    used += u;
  }
  return { length: total, segments };
}

/** UTF-16 code units in UCS-2 parts of 67, cut even through an emoji, as the gateways cut them. */
function ucsSegments(text) {
  const total = text.length;
  return { length: total, segments: total <= 70 ? 1 : Math.ceil(total / 67) };
}

/** {encoding, length, segments, reason}: reason says why a text is UCS-2. */
export function analyse(text) {
  if (!text) return { encoding: GSM7, length: 0, segments: 0, reason: null };
  let position = 0;
  const units = [];
  for (const ch of text) {
    position += 1;
    if (BASIC.has(ch)) units.push(1);
    else if (EXTENSION.has(ch)) units.push(2);
    else {
      const code = ch.codePointAt(0).toString(16).toUpperCase().padStart(4, "0");
      return { encoding: UCS2, ...ucsSegments(text), reason: t("'{character}' (U+{code}) at position {position} is not in the GSM-7 alphabet", { character: ch, code, position }) };
    }
  }
  return { encoding: GSM7, ...gsmSegments(units), reason: null };
}

/** The signature without brackets people type around it themselves. */
function bareSignature(signature) {
  let bare = (signature || "").trim();
  if (bare.length >= 2 && "[【".includes(bare[0]) && "]】".includes(bare[bare.length - 1])) {
    bare = bare.slice(1, -1).trim();
  }
  return bare;
}

/** The text as received, with the variables left as written. */
export function rendered(content, { signature, position = "start", direction = "international", unsubscribe = false }) {
  let body = content;
  if (unsubscribe) body = `${body.trimEnd()} ${UNSUBSCRIBE[direction] || UNSUBSCRIBE.international}`;
  const bare = bareSignature(signature);
  if (!bare) return body;
  const signed = direction === "mainland_china" ? `【${bare}】` : `[${bare}]`;
  const space = direction === "mainland_china" ? "" : " ";
  return position === "end" ? body + space + signed : signed + space + body;
}

/** The content's ${Var} variables in order of first appearance, each once. */
export function variables(content) {
  const names = [];
  for (const match of content.matchAll(/\$\{\s*([\p{L}\p{N}_]+)\s*\}/gu)) {
    if (!names.includes(match[1])) names.push(match[1]);
  }
  return names;
}

export function describe(info) {
  if (!info.length) return t("Empty");
  const per = info.encoding === GSM7 ? t("160 per SMS, 153 per part") : t("70 per SMS, 67 per part");
  // Not the characters the x/1500 counter shows: GSM-7 sends a few symbols in two units.
  const unit = info.encoding === GSM7 ? t("GSM-7 units ({ } [ ] ~ ^ \\ | € take two)") : t("UTF-16 units");
  const values = { encoding: info.encoding, length: info.length, unit, segments: info.segments, per };
  const text = info.segments === 1 ? t("{encoding} · {length} {unit} · {segments} segment ({per})", values) : t("{encoding} · {length} {unit} · {segments} segments ({per})", values);
  return info.reason ? t("{text}. UCS-2 because {reason}.", { text, reason: info.reason }) : text;
}
