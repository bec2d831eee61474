"""Submitting a page's form as a browser would: every field's current value, then what the person types."""

from tests.pages import parse


def find_form(content, action):
    for form in parse(content).find_all("form"):
        if form.attrs.get("action", "").endswith(action):
            break
    else:
        raise AssertionError(f"no form posting to {action!r} on the page")
    return form


def form_fields(content, action):
    """The successful controls of the first form whose action ends with ``action``: {name: value or [values]}."""
    form = find_form(content, action)
    data = {}

    def add(name, value):
        data.setdefault(name, []).append(value)

    for element in form.iter():
        name = element.attrs.get("name")
        if not name or "disabled" in element.attrs:
            continue
        if element.tag == "input":
            kind = element.attrs.get("type", "text")
            if kind in {"submit", "button", "reset", "image", "file"}:
                continue
            if kind in {"radio", "checkbox"}:
                if "checked" in element.attrs:
                    add(name, element.attrs.get("value", "on"))
            else:
                add(name, element.attrs.get("value", ""))
        elif element.tag == "textarea":
            add(name, element.text())
        elif element.tag == "select":
            options = element.find_all("option")
            chosen = [option for option in options if "selected" in option.attrs]
            if not chosen and options and "multiple" not in element.attrs:
                chosen = options[:1]
            for option in chosen:
                add(name, option.attrs.get("value", option.text()))
    return {name: values[0] if len(values) == 1 else values for name, values in data.items()}


def submit(client, page, action, **typed):
    """Posts the form of ``page`` (a response) that targets ``action``, with ``typed`` values filled in."""
    data = form_fields(page.content, action)
    data.update(typed)
    return client.post(find_form(page.content, action).attrs["action"], data)
