"""The portal guide (web/guide.html, linked from the overview's "Learn more") has a section
for every page the portal's menu leads to, so that a page added to the menu is not left
out of it."""

import re
from pathlib import Path

WEB = Path(__file__).resolve().parents[2] / "web"


def menu_pages() -> list[str]:
    """The labels of the menu entries that open a page (those with a route)."""
    app = (WEB / "js" / "app.js").read_text(encoding="utf-8")
    menu = app[app.index("const MENU") : app.index("const PAGES")]
    return re.findall(r'label: t\("([^"]+)"\), route:', menu)


def guide_sections() -> list[str]:
    guide = (WEB / "guide.html").read_text(encoding="utf-8")
    return re.findall(r"<h2>([^<]+)</h2>", guide)


def test_the_menu_is_read():
    assert "Bulk Dispatching Tool" in menu_pages()
    assert "Accounts" in menu_pages()  # the operator's group too
    assert len(menu_pages()) == 17


def test_the_guide_has_a_section_for_every_page_of_the_menu():
    missing = [page for page in menu_pages() if page not in guide_sections()]

    assert missing == []


def test_the_guides_contents_lead_to_every_section_in_order():
    guide = (WEB / "guide.html").read_text(encoding="utf-8")
    contents = guide[guide.index('<nav aria-label="Contents">') : guide.index("</nav>")]

    linked = re.findall(r'<a href="#([\w-]+)">', contents)

    assert linked == re.findall(r'<section class="panel" id="([\w-]+)">', guide)
