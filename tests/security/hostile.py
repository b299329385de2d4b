"""A page-text document whose every text field carries markup, template syntax and script."""

SCRIPT = "<script>alert(1)</script>"
ATTRIBUTE = '"><img src=x onerror=alert(1)>'
TEMPLATE = "{{ 7*7 }}"
TEMPLATE_TAG = "{% debug %}"
JAVASCRIPT_URL = "javascript:alert(1)"
HOSTILE = f"{SCRIPT} {ATTRIBUTE} {TEMPLATE} {TEMPLATE_TAG} {JAVASCRIPT_URL}"
REFERENCE = f"anp-ref-hostile-{SCRIPT}"
# An entity type with a "/" breaks the article page (see test_hostile_text.py), so this one has none.
ENTITY_TYPE = f"{ATTRIBUTE} {TEMPLATE}"


def _replace(text: str, old: str, new: str, count: int = -1) -> str:
    assert old in text, old
    return text.replace(old, new, count)


def hostile_document(sample_text: str) -> str:
    """The sample export with every text field made hostile; it stays a valid, live document."""
    text = f"{HOSTILE} hostile title" + sample_text[sample_text.index("\n") :]
    # Body: paragraph, heading, code, list, figure captions.
    text = _replace(text, "a reliable python services setup", f"{HOSTILE} a reliable python services setup")
    # Headings: one short line without code signs, or the parser would take it for code.
    text = _replace(text, "\nproduction checks\n", f"\nproduction checks {SCRIPT}\n")
    text = _replace(
        text, "app = FastAPI()\n", f'app = FastAPI()\nhtml = "{SCRIPT} {TEMPLATE} {TEMPLATE_TAG}"\n'
    )
    text = _replace(text, "\nfinal notes\n", f"\nfinal notes {TEMPLATE} {TEMPLATE_TAG} <b>bold</b>\n")
    text = _replace(text, "  • test the smallest change\n", f"  • test the smallest change {HOSTILE}\n")
    text = _replace(text, "visual reference 1", f"visual reference 1 {HOSTILE}")
    text = _replace(text, "source: unsplash\n", f"source: unsplash {SCRIPT}\n")
    # Meta: scalars, records, lists, record lists, extra meta.
    text = _replace(text, "topiccreating", f"topic{HOSTILE} creating")
    text = _replace(text, "summarythis", f"summary{HOSTILE} this")
    text = _replace(text, "ai briefthe", f"ai brief{HOSTILE} the")
    for name in ("context: ", "problem: ", "stack: ", "recommended action: "):
        text = _replace(text, f"  • {name}", f"  • {name}{HOSTILE} ", 1)
    text = _replace(text, "  • backend\n", f"  • backend\n  • {HOSTILE}\n")
    text = _replace(text, "  • ruff\n", f"  • ruff\n  • {HOSTILE}\n")
    text = _replace(text, "  • write the final note\n", f"  • write the final note\n  • {HOSTILE}\n")
    text = _replace(text, "notes\n  • sanitized", f"notes\n  • {HOSTILE}\n  • sanitized")
    text = _replace(
        text,
        "    • type: problem\n",
        f"    • type: problem\n    • name: {HOSTILE}\n    • type: {ENTITY_TYPE}\n",
    )
    text = _replace(text, "  • source id: alphanode-035445", f"  • source id: alphanode-035445 {HOSTILE}")
    text = _replace(text, "  • generator: anp", f"  • generator: {HOSTILE} anp")
    text = _replace(text, "  • scenario: before", f"  • scenario: {HOSTILE} before")
    text = _replace(text, "referenceanp-ref-035445-8950", f"reference{REFERENCE}")
    text = _replace(text, "\nSimilar Posts", f"\nhostile extra\n  • {HOSTILE}\n\nSimilar Posts")
    return text
