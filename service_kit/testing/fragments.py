"""Reading a fragment as the cockpit page does, for both services' tests.

What a learner should notice: the tests read the HTML the way a browser
and htmx would (the root element's attributes, the labels of the inputs,
the error beside each field), with Python's own HTML parser, not by
searching the text for a snippet that could match anywhere.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from html.parser import HTMLParser
from urllib.parse import urlencode


@dataclass
class ParsedFragment:
    root_tag: str = ""
    root: dict[str, str] = field(default_factory=dict)
    #: Elements after the root closed: a fragment is exactly one element.
    outside: int = 0
    input_ids: list[str] = field(default_factory=list)
    input_names: dict[str, str] = field(default_factory=dict)  # name -> value
    label_targets: list[str] = field(default_factory=list)
    #: ``data-field`` of each error shown -> its text.
    errors: dict[str, str] = field(default_factory=dict)
    alerts: list[str] = field(default_factory=list)
    hx: list[dict[str, str]] = field(default_factory=list)
    header_cells: int = 0
    tables: int = 0
    buttons: list[str] = field(default_factory=list)


class _FragmentParser(HTMLParser):
    VOID = {"input", "br", "img", "meta", "link", "hr"}

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.parsed = ParsedFragment()
        self.depth = 0
        # (what, key, its text so far, the depth of its element)
        self.open: list[tuple[str, str, list[str], int]] = []

    def handle_starttag(self, tag, attrs):
        attributes = {name: value or "" for name, value in attrs}
        parsed = self.parsed
        if not parsed.root_tag:
            parsed.root_tag, parsed.root = tag, attributes
        elif self.depth == 0:
            parsed.outside += 1
        if tag == "input":
            parsed.input_ids.append(attributes.get("id", ""))
            parsed.input_names[attributes.get("name", "")] = attributes.get("value", "")
        elif tag == "label":
            parsed.label_targets.append(attributes.get("for", ""))
        elif tag == "th":
            parsed.header_cells += 1
        elif tag == "table":
            parsed.tables += 1
        if any(name.startswith("hx-") for name in attributes):
            parsed.hx.append(attributes)
        if tag in self.VOID:
            return
        self.depth += 1
        if attributes.get("data-field"):
            self.open.append(("error", attributes["data-field"], [], self.depth))
        if attributes.get("role") == "alert":
            self.open.append(("alert", "", [], self.depth))
        if tag == "button":
            self.open.append(("button", "", [], self.depth))

    def handle_endtag(self, tag):
        if tag in self.VOID:
            return
        while self.open and self.open[-1][3] == self.depth:
            what, key, text, _ = self.open.pop()
            content = " ".join("".join(text).split())
            if what == "error":
                self.parsed.errors[key] = content
            elif what == "alert":
                self.parsed.alerts.append(content)
            else:
                self.parsed.buttons.append(content)
        self.depth -= 1

    def handle_data(self, data):
        for _, _, text, _ in self.open:
            text.append(data)


def parse_fragment(html: str) -> ParsedFragment:
    parser = _FragmentParser()
    parser.feed(html)
    parser.close()
    return parser.parsed


def read_fragment(
    response, *, status: int, service: str, name: str, version: str
) -> ParsedFragment:
    """The fragment in ``response``, held to the contract
    (``service_kit.fragments``): status, root element, version header,
    a label for every input and text on every button."""
    # Here, not at the top: the cross-service tests parse fragments without
    # Django, and ``service_kit.fragments`` needs it.
    from service_kit.fragments import FRAGMENT_VERSION_HEADER

    html = response.content.decode()
    assert response.status_code == status, html
    assert response["Content-Type"].startswith("text/html"), response["Content-Type"]
    assert response[FRAGMENT_VERSION_HEADER] == version
    parsed = parse_fragment(html)
    assert parsed.root_tag == "section", html
    assert parsed.root == {
        **parsed.root,
        "class": "fragment",
        "data-service": service,
        "data-fragment": name,
        "data-fragment-version": version,
    }, parsed.root
    assert parsed.outside == 0, "a fragment is one element"
    assert sorted(parsed.input_ids) == sorted(parsed.label_targets), html
    assert all(parsed.buttons), "every button says what it does"
    return parsed


def post_form(client, url: str, data: dict[str, str]):
    """POST ``data`` as htmx posts a form (URL-encoded)."""
    return client.post(
        url, urlencode(data), content_type="application/x-www-form-urlencoded"
    )
