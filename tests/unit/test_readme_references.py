"""What README.md names exists: its `make` targets, repository paths, `cloudsms` commands
and their options, the template's parameters and the API's routes. The README is how the
product is learnt; a name renamed or removed in the code leaves it wrong without a word."""

import argparse
import json
import re
from pathlib import Path

from cloudsms.cli import _parser

ROOT = Path(__file__).resolve().parents[2]
README = (ROOT / "README.md").read_text(encoding="utf-8")
# Inline code, and the lines of code blocks with their `\` continuations joined.
SPANS = re.findall(r"`([^`\n]+)`", README) + README.replace("\\\n", " ").splitlines()
TOP_LEVEL = ("layers/", "functions/", "local/", "tests/", "bench/", "web/", "scripts/", ".ci/")
# A console command named alone, as in "`channel-show ROUTE`".
COMMAND_LIKE = re.compile(r"((tenant|key|channel|package|order|template|account)-|redrive\b)")


def test_the_readme_is_read():
    assert "make run" in README
    assert len(named_commands()) > 20


def makefile_targets() -> set[str]:
    makefile = (ROOT / "Makefile").read_text(encoding="utf-8")
    return set(re.findall(r"^([\w.-]+)\s*:(?!=)", makefile, re.MULTILINE))


def test_every_make_target_the_readme_names_exists():
    named = {m for span in SPANS for m in re.findall(r"^\s*make ([a-z][\w.-]*)", span)}

    assert {"run", "test"} <= named
    assert sorted(named - makefile_targets()) == []


def named_paths() -> set[str]:
    paths = set()
    for span in re.findall(r"`([^`\s]+)`", README):
        path = span.rstrip(".,:")
        if path.startswith(TOP_LEVEL) or path in ("template.yaml", "samconfig.toml", "Makefile"):
            paths.add(path)
        elif re.fullmatch(r"(domain|services|store|adapters|carriers)/\w+\.py", path):
            paths.add(f"layers/cloudsms/cloudsms/{path}")  # named within the package
    return paths


def test_every_repository_path_the_readme_names_exists():
    missing = [p for p in sorted(named_paths()) if not any(ROOT.glob(p))]

    assert "layers/cloudsms/cloudsms/services/submission.py" in named_paths()
    assert missing == []


def subcommands() -> dict[str, argparse.ArgumentParser]:
    parser = _parser()
    action = next(a for a in parser._actions if isinstance(a, argparse._SubParsersAction))  # noqa: SLF001
    return dict(action.choices)


def options(parser: argparse.ArgumentParser) -> set[str]:
    return {option for action in parser._actions for option in action.option_strings}  # noqa: SLF001


def named_commands() -> list[tuple[str, list[str]]]:
    """Each `cloudsms COMMAND --option …` the README writes: the command and its options."""
    named = []
    for span in SPANS:
        found = re.findall(r"(?<![\w-])cloudsms((?:[ \t]+[^\s`#]+)+)", span)
        if COMMAND_LIKE.match(span):  # `channel-update ROUTE`, written without cloudsms
            found.append(" " + span)
        for words in found:
            words = words.split()
            while words and words[0].startswith("-"):  # --stack NAME, --local, --region R
                words = words[2:] if words[0] in ("--stack", "--region") else words[1:]
            if words and re.fullmatch(r"[a-z]+(-[a-z]+)*", words[0]):
                named.append((words[0], [w.split("=")[0] for w in words[1:] if w.startswith("--")]))
    return named


def test_every_cloudsms_command_and_option_the_readme_names_exists():
    commands = subcommands()
    unknown = sorted({c for c, _ in named_commands() if c not in commands})
    wrong_options = sorted(
        {
            f"{c} {o}"
            for c, given in named_commands()
            if c in commands
            for o in given
            if o not in options(commands[c]) | options(_parser())
        }
    )

    assert unknown == []
    assert wrong_options == []


def template_parameters() -> set[str]:
    template = (ROOT / "template.yaml").read_text(encoding="utf-8")
    section = template[template.index("\nParameters:\n") : template.index("\nConditions:\n")]
    return set(re.findall(r"^  (\w+):", section, re.MULTILINE))


def test_the_readme_lists_the_templates_parameters_and_no_other():
    listing = README[README.index("The template's parameters:") :]
    listing = listing[: listing.index("\n\n", listing.index("\n- "))]
    listed = set(re.findall(r"^- `(\w+)`", listing, re.MULTILINE))

    assert "Stage" in listed
    assert listed == template_parameters()


def test_every_route_the_readme_names_is_in_the_openapi_document():
    document = json.loads((ROOT / "web" / "openapi.json").read_text(encoding="utf-8"))

    def shape(route: str) -> str:
        return re.sub(r"\{[^}]*\}|<[^>]*>", "{}", route)

    documented = {shape(route) for route in document["paths"]}
    named = {
        shape(route.rstrip(".:\"'"))
        for route in re.findall(r"/v1/[^\s`?,;)…]+", README)
        if not route.endswith("/")  # a prefix: "the routes under /v1/admin/"
    }

    assert "/v1/missions/{}/cancel" in named
    assert sorted(named - documented) == []


def answered_error_codes() -> set[str]:
    """Every error code the API answers with: the errors' classes, the handlers' own
    answers and API Gateway's (the template's gateway responses)."""
    sources = [
        ROOT / "layers/cloudsms/cloudsms/errors.py",
        ROOT / "layers/cloudsms/cloudsms/api.py",
        ROOT / "template.yaml",
    ]
    text = "\n".join(path.read_text(encoding="utf-8") for path in sources)
    return set(
        re.findall(r'code = "([a-z_]+)"', text)
        + re.findall(r'error_response\(\s*\d+,\s*"([a-z_]+)"', text)
        + re.findall(r'"code": "([a-z_]+)"', text)
    )


def test_the_readmes_error_codes_are_every_code_the_api_answers_with():
    table = re.findall(r"^\| [\dx]+ \| `([a-z_]+)` \|", README, re.MULTILINE)

    assert sorted(table) == sorted(set(table))
    assert set(table) == answered_error_codes()
