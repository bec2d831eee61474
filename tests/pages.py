"""Reading rendered HTML in tests: a tiny element tree built with the standard library's parser."""

from dataclasses import dataclass, field
from html.parser import HTMLParser

VOID_ELEMENTS = {"area", "base", "br", "col", "embed", "hr", "img", "input", "link", "meta", "source", "track", "wbr"}


@dataclass
class Element:
    tag: str
    attrs: dict
    children: list = field(default_factory=list)
    parent: "Element | None" = None

    @property
    def classes(self):
        return (self.attrs.get("class") or "").split()

    def text(self):
        parts = []
        for child in self.children:
            parts.append(child.text() if isinstance(child, Element) else child)
        return " ".join(" ".join(parts).split())

    def iter(self):
        for child in self.children:
            if isinstance(child, Element):
                yield child
                yield from child.iter()

    def find_all(self, tag, class_=None):
        return [el for el in self.iter() if el.tag == tag and (class_ is None or class_ in el.classes)]

    def find(self, tag, class_=None):
        found = self.find_all(tag, class_)
        return found[0] if found else None


class _TreeBuilder(HTMLParser):
    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.root = Element("#document", {})
        self.current = self.root

    def handle_starttag(self, tag, attrs):
        element = Element(tag, {name: (value or "") for name, value in attrs}, parent=self.current)
        self.current.children.append(element)
        if tag not in VOID_ELEMENTS:
            self.current = element

    def handle_startendtag(self, tag, attrs):
        self.current.children.append(Element(tag, {name: (value or "") for name, value in attrs}, parent=self.current))

    def handle_endtag(self, tag):
        node = self.current
        while node is not None and node.tag != tag:
            node = node.parent
        if node is not None and node.parent is not None:
            self.current = node.parent

    def handle_data(self, data):
        self.current.children.append(data)


def parse(content):
    if isinstance(content, bytes):
        content = content.decode()
    builder = _TreeBuilder()
    builder.feed(content)
    builder.close()
    return builder.root


def queue_rows(content):
    """The desk queue's body rows, as {column heading: cell text}, plus the row's classes under '_classes'."""
    table = parse(content).find("table", "queue")
    if table is None:
        return []
    headings = [th.text() for th in table.find("thead").find_all("th")]
    rows = []
    for tr in table.find("tbody").find_all("tr"):
        cells = [td.text() for td in tr.find_all("td")]
        row = dict(zip(headings, cells, strict=True))
        row["_classes"] = tr.classes
        rows.append(row)
    return rows


def report_answers(content):
    """Each report article of a desk case page as a list of (question, answer) pairs, in page order."""
    reports = []
    for article in parse(content).find_all("article", "report"):
        pairs = []
        for dl in article.find_all("dl", "answers"):
            terms = [el for el in dl.children if isinstance(el, Element) and el.tag in {"dt", "dd"}]
            pairs += [(dt.text(), dd.text()) for dt, dd in zip(terms[::2], terms[1::2], strict=True)]
        reports.append(pairs)
    return reports


def input_value(content, name):
    for element in parse(content).find_all("input"):
        if element.attrs.get("name") == name:
            return element.attrs.get("value", "")
    raise AssertionError(f"no input named {name!r}")


def inline_code(content):
    """Everything in the page that a strict CSP (no 'unsafe-inline') would block or that needs it."""
    problems = []
    for element in parse(content).iter():
        if element.tag == "script" and ("src" not in element.attrs or element.text()):
            problems.append(f"inline <script>: {element.text()[:60]!r}")
        if element.tag == "style":
            problems.append("<style> element")
        for name, value in element.attrs.items():
            if name == "style":
                problems.append(f"style= attribute on <{element.tag}>")
            if name.startswith("on"):
                problems.append(f"{name}= handler on <{element.tag}>")
            if name in {"href", "src", "action", "formaction"} and value.strip().lower().startswith("javascript:"):
                problems.append(f"javascript: URL in {name}= on <{element.tag}>")
    return problems
