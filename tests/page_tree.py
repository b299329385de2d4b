"""Pages as element trees (the standard library's HTML parser), so a test can check the place
where a text is shown, not merely that some form of it is somewhere on the page.

Text is read the way a browser shows it: character references decoded, markup gone. So an
element whose text is ``<script>`` had it escaped in the source, and hostile markup that got
through unescaped shows up as elements or attributes (``hostile_markup``).
"""

from html.parser import HTMLParser

VOID = {"area", "base", "br", "col", "embed", "hr", "img", "input", "link", "meta", "source", "track", "wbr"}


class Element:
    def __init__(self, tag: str, attrs: list[tuple[str, str | None]], parent: "Element | None"):
        self.tag = tag
        self.attrs = {name: value or "" for name, value in attrs}
        self.parent = parent
        self.children: list[Element | str] = []

    def __repr__(self) -> str:
        return f"<{self.tag} {self.attrs}>"

    @property
    def text(self) -> str:
        return "".join(child if isinstance(child, str) else child.text for child in self.children)

    @property
    def classes(self) -> set[str]:
        return set(self.attrs.get("class", "").split())

    def iter(self):
        yield self
        for child in self.children:
            if isinstance(child, Element):
                yield from child.iter()

    def find_all(self, tag: str | None = None, *, class_: str | None = None, **attrs: str) -> list["Element"]:
        """Descendants (and self) with this tag, class and attribute values (``id_="x"`` for id)."""
        wanted = {name.rstrip("_").replace("_", "-"): value for name, value in attrs.items()}
        return [
            element
            for element in self.iter()
            if (tag is None or element.tag == tag)
            and (class_ is None or class_ in element.classes)
            and all(element.attrs.get(name) == value for name, value in wanted.items())
        ]

    def one(self, tag: str | None = None, **kwargs: str) -> "Element":
        """The single element that matches; fails the test when there are none or several."""
        found = self.find_all(tag, **kwargs)
        assert len(found) == 1, f"{len(found)} elements match {tag} {kwargs}"
        return found[0]


class _Builder(HTMLParser):
    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.root = Element("#document", [], None)
        self.current = self.root

    def handle_starttag(self, tag, attrs):
        element = Element(tag, attrs, self.current)
        self.current.children.append(element)
        if tag not in VOID:
            self.current = element

    def handle_startendtag(self, tag, attrs):
        self.current.children.append(Element(tag, attrs, self.current))

    def handle_endtag(self, tag):
        element = self.current
        while element is not None and element.tag != tag:
            element = element.parent
        if element is not None and element.parent is not None:  # an unmatched end tag changes nothing
            self.current = element.parent

    def handle_data(self, data):
        self.current.children.append(data)


def parse(page: str | bytes) -> Element:
    builder = _Builder()
    builder.feed(page.decode() if isinstance(page, bytes) else page)
    builder.close()
    return builder.root


def runs(script: Element) -> bool:
    """Whether a browser runs a <script> (data blocks such as JSON-LD are not run)."""
    kind = script.attrs.get("type", "").strip().lower()
    return kind in ("", "module", "text/javascript", "application/javascript")


def hostile_markup(root: Element, payload: str = "alert(1)") -> list[str]:
    """Markup a hostile text would make if it reached the page unescaped: script elements or
    event-handler attributes that run ``payload``, links or sources with a javascript: URL."""
    found = []
    for element in root.iter():
        if element.tag == "script" and runs(element) and payload in element.text:
            found.append(f"<script> running {element.text!r}")
        for name, value in element.attrs.items():
            if name.startswith("on") and payload in value:
                found.append(f"<{element.tag} {name}={value!r}>")
            url = "".join(char for char in value if char > " ").lower()  # as browsers read it
            if name in ("href", "src", "action", "formaction") and url.startswith("javascript:"):
                found.append(f"<{element.tag} {name}={value!r}>")
    return found
