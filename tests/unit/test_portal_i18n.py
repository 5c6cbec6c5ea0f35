"""The portal's Simplified Chinese (web/js/i18n/zh-CN/): every word the code passes to
`t(...)` has its Chinese, no dictionary keeps a word the code no longer shows, and a
translation puts in the same values (`{name}`) as its English."""

import json
import re
from pathlib import Path

import pytest

JS = Path(__file__).resolve().parents[2] / "web" / "js"
DICTIONARY = JS / "i18n" / "zh-CN"
# t("…") or t('…') or t(`…`) (a template literal without ${}) as the first argument.
CALL = re.compile(r"""\bt\(\s*(?:"((?:[^"\\]|\\.)*)"|'((?:[^'\\]|\\.)*)'|`([^`$\\]*)`)""")
PLACEHOLDER = re.compile(r"\{(\w+)\}")


def dictionary_files() -> list[Path]:
    return sorted(p for p in DICTIONARY.glob("*.js") if p.name != "index.js")


def read_dictionary(path: Path) -> dict[str, str]:
    """The JSON object after `export default` (comments may come before it)."""
    text = path.read_text(encoding="utf-8")
    body = text[text.index("export default") + len("export default") :].strip().rstrip(";")
    try:
        return json.loads(body)
    except json.JSONDecodeError as error:
        message = f"{path.name} is not a JSON object after `export default`: {error}"
        raise AssertionError(message) from error


def chinese() -> dict[str, str]:
    words: dict[str, str] = {}
    for path in dictionary_files():
        words.update(read_dictionary(path))
    return words


def words_in_code() -> dict[str, set[str]]:
    """Each word passed to t(...) in the portal's code, with the files it is in."""
    found: dict[str, set[str]] = {}
    for path in sorted(JS.rglob("*.js")):
        if DICTIONARY in path.parents:
            continue
        for match in CALL.finditer(path.read_text(encoding="utf-8")):
            double, single, backtick = match.groups()
            word = json.loads(f'"{double}"') if double is not None else (single or backtick or "")
            found.setdefault(word, set()).add(path.relative_to(JS).as_posix())
    return found


def test_the_code_and_the_dictionary_are_read():
    assert "Bulk Dispatching Tool" in words_in_code()
    assert chinese()["Bulk Dispatching Tool"] == "群发工具"


def test_every_word_the_code_translates_has_its_chinese():
    words = chinese()
    missing = {word: sorted(files) for word, files in words_in_code().items() if word not in words}

    assert missing == {}


def test_no_dictionary_keeps_a_word_the_code_does_not_show():
    stale = sorted(set(chinese()) - set(words_in_code()))

    assert stale == []


def test_a_word_in_two_files_has_one_chinese():
    seen: dict[str, tuple[str, str]] = {}
    differing = []
    for path in dictionary_files():
        for word, translation in read_dictionary(path).items():
            if word in seen and seen[word][1] != translation:
                differing.append((word, seen[word], (path.name, translation)))
            seen.setdefault(word, (path.name, translation))

    assert differing == []


@pytest.mark.parametrize("path", dictionary_files(), ids=lambda p: p.name)
def test_a_translation_puts_in_the_values_its_english_does(path):
    wrong = {
        word: translation
        for word, translation in read_dictionary(path).items()
        if not translation.strip()
        or sorted(PLACEHOLDER.findall(word)) != sorted(PLACEHOLDER.findall(translation))
    }

    assert wrong == {}


def test_the_index_merges_every_dictionary_file():
    index = (DICTIONARY / "index.js").read_text(encoding="utf-8")
    imported = set(re.findall(r'from "\./([\w-]+)\.js"', index))

    assert imported == {p.stem for p in dictionary_files()}
