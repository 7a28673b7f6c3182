"""Lists: add, remove, read out and clear items on named lists (the shopping list by default).

Each list is one key in ``ctx.store``. Setting (``[skill.lists]``):
``default_list`` (default "shopping").
"""

from __future__ import annotations

import re

from voicebox.skill import Context, Response, Setting, Skill, intent


def _split(items: str) -> list[str]:
    """ "milk, eggs and bread" -> ["milk", "eggs", "bread"]."""
    parts = re.split(r",|\band\b|\balso\b", items.lower())
    return [p.strip(" .!?") for p in parts if p.strip(" .!?")]


# One list command as the templates put it: "ITEM to|on|from|off [the|my] [NAME] list", after its verb.
_COMMAND = re.compile(r"(?P<item>.+?)\s+(?:to|on|onto|from|off)\s+(?:(?:the|my)\s+)?(?P<name>.*?)\s*\blist\b[\s.,!?]*",
                      re.IGNORECASE)
_LEAD = re.compile(r"^(?:(?:and|also|then|please|add|put|remove|delete|take|erase|cross|scratch|tick)\s+)+",
                   re.IGNORECASE)


def _last_command(item: str, list_name: str | None) -> tuple[str, str | None]:
    """The last complete list command when the slots hold more than one (a recognition echo), else the slots.

    Speech recognition sometimes hears a command twice ("add milk to my shopping list and milk to my shopping
    list"): the wildcards then swallow the second copy, and milk would land on a list named "shopping list and
    milk to my shopping". A list name or item that contains another list command is such an echo, not a name.
    """
    text = f"{item} to my {list_name or ''} list"
    commands, at = [], 0
    for found in _COMMAND.finditer(text):
        if found.start() != at:
            return item, list_name
        commands.append(found)
        at = found.end()
    if len(commands) < 2 or at != len(text):
        return item, list_name
    last_item = _LEAD.sub("", commands[-1]["item"]).strip()
    if not last_item or last_item.lower() in ("my", "the", "a"):
        return item, list_name
    return last_item, commands[-1]["name"].strip() or None


def _join(items: list[str]) -> str:
    return items[0] if len(items) == 1 else ", ".join(items[:-1]) + " and " + items[-1]


class Lists(Skill):
    """Named lists that persist: shopping, to-do, packing..."""

    examples = ("add milk and eggs to my shopping list", "what's on my shopping list", "clear my shopping list")
    settings = {"default_list": Setting("shopping", "The list meant when a command names none.")}

    def _name(self, ctx: Context, list_name: str | None) -> str:
        name = (list_name or "").lower().strip()
        name = re.sub(r"^(the|my)\s+", "", name)
        return name or str(ctx.settings["default_list"])

    @intent("AddItem")
    def add(self, ctx: Context, item: str, list_name: str | None = None) -> Response:
        """Add one or more items."""
        item, list_name = _last_command(item, list_name)
        name = self._name(ctx, list_name)
        new = _split(item)
        with ctx.store.transaction():
            items = ctx.store.get(f"list:{name}", [])
            added = [i for i in new if i not in items]
            ctx.store.set(f"list:{name}", items + added)
        if not added:
            return Response(f"{_join(new).capitalize()} {'is' if len(new) == 1 else 'are'} already on your {name} list.")
        return Response(f"Added {_join(added)} to your {name} list.", data={"list": name, "items": items + added})

    @intent("RemoveItem")
    def remove(self, ctx: Context, item: str, list_name: str | None = None) -> Response:
        """Remove one or more items."""
        item, list_name = _last_command(item, list_name)
        name = self._name(ctx, list_name)
        gone = _split(item)
        with ctx.store.transaction():
            items = ctx.store.get(f"list:{name}", [])
            removed = [i for i in gone if i in items]
            ctx.store.set(f"list:{name}", [i for i in items if i not in removed])
        if not removed:
            return Response(f"{_join(gone).capitalize()} {'is' if len(gone) == 1 else 'are'} not on your {name} list.")
        return Response(f"Removed {_join(removed)} from your {name} list.")

    @intent("ReadList")
    def read(self, ctx: Context, list_name: str | None = None) -> Response:
        """Read the list out."""
        name = self._name(ctx, list_name)
        items = ctx.store.get(f"list:{name}", [])
        if not items:
            return Response(f"Your {name} list is empty.", data={"list": name, "items": []})
        count = "one item" if len(items) == 1 else f"{len(items)} items"
        return Response(f"Your {name} list has {count}: {_join(items)}.", data={"list": name, "items": items})

    @intent("ClearList")
    def clear(self, ctx: Context, list_name: str | None = None) -> Response:
        """Empty the list."""
        name = self._name(ctx, list_name)
        ctx.store.delete(f"list:{name}")
        return Response(f"Cleared your {name} list.")
