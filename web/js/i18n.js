// The portal's languages: the guide's "English ▾" menu.
//
// The words in the code are English; another language is a dictionary from those words to
// its own (web/js/i18n/<language>/, a file per page). `t(word)` is the word in the
// chosen language, and a word a dictionary lacks shows in English. What the API answers (a
// refusal's reason, a gateway's, a template's content) is the platform's and is shown as it
// comes. The choice is kept in this browser (localStorage); with none, a browser set to
// Chinese starts in Chinese.

import zhCN from "./i18n/zh-CN/index.js";

export const LANGUAGES = [
  { code: "en", label: "English" },
  { code: "zh-CN", label: "简体中文" },
];
const DICTIONARIES = { "zh-CN": zhCN };
const LANGUAGE_ITEM = "cloudsms.language";

function chosenLanguage() {
  const stored = localStorage.getItem(LANGUAGE_ITEM);
  if (LANGUAGES.some((l) => l.code === stored)) return stored;
  return (navigator.language || "").toLowerCase().startsWith("zh") ? "zh-CN" : "en";
}

// Read once: the page is loaded again when the language changes (chooseLanguage), so words
// a module keeps from its first evaluation (a menu's labels) are in the chosen language.
export const language = chosenLanguage();
const dictionary = DICTIONARIES[language] || {};
document.documentElement.lang = language;

/** `text` in the chosen language, each `{name}` in it replaced by `values[name]`.
 * An English word that needs two translations says which after a "|" ("Failed|mission"):
 * the key is the whole, the English shown is the part before the "|". */
export function t(text, values = {}) {
  const words = dictionary[text] ?? text.split("|")[0];
  return words.replace(/\{(\w+)\}/g, (whole, name) => (name in values ? String(values[name]) : whole));
}

/** Keeps the choice and loads the page again in it; the tab's log-in is kept
 * (sessionStorage), a form's typed values are not. */
export function chooseLanguage(code) {
  if (code === language) return;
  localStorage.setItem(LANGUAGE_ITEM, code);
  window.location.reload();
}
