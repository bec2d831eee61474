"""A worker keeps a page while what it was rendered from reads the same, and renders it again once that changes."""

from django.test import override_settings

from cocdesk.common.worker_pages import WorkerPages


class Renders:
    def __init__(self):
        self.count = 0

    def __call__(self):
        self.count += 1
        return f"page {self.count}"


def test_a_page_is_rendered_once_while_its_source_reads_the_same():
    pages, render = WorkerPages(), Renders()
    first = pages.page(1, ("Org", ["Main hall"]), render)
    again = pages.page(1, ("Org", ["Main hall"]), render)
    assert first == again == "page 1" and render.count == 1


def test_a_changed_source_renders_the_page_again_and_keeps_the_new_one():
    pages, render = WorkerPages(), Renders()
    pages.page(1, ("Org", ["Main hall"]), render)
    assert pages.page(1, ("Org", ["Main hall", "Chat"]), render) == "page 2"
    assert pages.page(1, ("Org", ["Main hall", "Chat"]), render) == "page 2"
    assert pages.page(1, ("Org", ["Main hall"]), render) == "page 3"


def test_each_key_has_its_own_page_and_the_oldest_goes_past_the_limit():
    pages, render = WorkerPages(most=2), Renders()
    assert [pages.page(key, "same", render) for key in (1, 2)] == ["page 1", "page 2"]
    pages.page(3, "same", render)
    assert pages.page(2, "same", render) == "page 2"
    assert pages.page(1, "same", render) == "page 4"


def test_a_changed_setting_forgets_every_page():
    pages, render = WorkerPages(), Renders()
    pages.page(1, "same", render)
    with override_settings(SITE_NAME_FOR_THIS_TEST="changed"):
        assert pages.page(1, "same", render) == "page 2"
