"""Layout checks the browser tests share."""

from playwright.sync_api import Page


def assert_no_sideways_scroll(page: Page, what: str) -> None:
    """The page itself does not scroll sideways in its window (tables and code may, inside their
    own scrolling containers); the message names the innermost elements that reach past the
    window's right edge. The window is the layout viewport (``clientWidth``): a phone's browser
    zooms out to show a page wider than the screen, which widens ``innerWidth`` with it."""
    page.wait_for_load_state()  # the stylesheets are in: the layout is the final one
    sizes = page.evaluate("[document.documentElement.scrollWidth, document.documentElement.clientWidth]")
    wide = page.evaluate(
        """() => {
            const over = e => e.getBoundingClientRect().right > document.documentElement.clientWidth + 1
                              && !e.parentElement?.closest('.table-scroll, .results, .code-block');
            return [...document.querySelectorAll('body *')]
                .filter(e => over(e) && ![...e.children].some(over))
                .slice(0, 5)
                .map(e => `${e.tagName.toLowerCase()}${e.id ? '#' + e.id : ''}`
                          + `${typeof e.className === 'string' && e.className ? '.' + e.className : ''}`
                          + ` (${Math.round(e.getBoundingClientRect().right)} px)`);
        }"""
    )
    assert sizes[0] <= sizes[1] + 1, (
        f"{what} is {sizes[0]} px wide in a {sizes[1]} px window; too wide: {wide}"
    )
