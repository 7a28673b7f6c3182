"""Lists: named lists (the shopping list by default) to create, fill, read out, count, check off, rename and delete.

Each list is one key in ``ctx.store`` (``list:NAME``), so lists survive
restarts. A long list is read in parts: say "more" to hear the rest. "The grocery list" (and "groceries",
"the supermarket list") is the shopping list, unless a list was created under that name.
Settings (``[skill.lists]``): ``default_list`` (default "shopping"),
``read_at_once`` (items read before asking "more", default 5).
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


# Other names people give the shopping list: "add rice to the grocery list" goes on the shopping list.
_GROCERIES = frozenset({"grocery", "groceries", "grocery shopping", "food shopping", "supermarket", "shop"})

_EVERYTHING = re.compile(r"everything|all(?: (?:the )?(?:items|things))?|every item|the lot")


def _item_off(list_name: str | None) -> tuple[str, str | None] | None:
    """("flour", "shopping") for a list name heard as "flour off the shopping"; ``None`` for a plain list name."""
    found = re.fullmatch(r"(.+?)\s+(?:from|off|on|in)\s+(?:the\s+|my\s+)?(.*)", (list_name or "").strip())
    if found is None:
        return None
    return re.sub(r"^the\s+", "", found.group(1)), (found.group(2) or None)


def _join(items: list[str]) -> str:
    return items[0] if len(items) == 1 else ", ".join(items[:-1]) + " and " + items[-1]


def _count(n: int) -> str:
    return "no items" if n == 0 else "one item" if n == 1 else f"{n} items"


_MORE = re.compile(r"\b(more|yes|yeah|yep|sure|continue|go on|keep going|next|ok|okay|please|the rest)\b")
_YES = re.compile(r"^(yes|yeah|yep|sure|ok|okay|do it|delete it|go ahead|please)\b")
_ORDINAL = {1: "first", 2: "second", 3: "third", 4: "fourth", 5: "fifth", 6: "sixth", 7: "seventh", 8: "eighth",
            9: "ninth", 10: "tenth"}


class Lists(Skill):
    """Named lists that persist: shopping, to-do, packing..."""

    examples = ("add milk and eggs to my shopping list", "what's on my shopping list", "clear my shopping list",
                "what lists do I have", "check off milk")
    settings = {"default_list": Setting("shopping", "The list meant when a command names none."),
                "read_at_once": Setting(5, "How many items a list is read in at once (\"more\" reads on).", lo=1, hi=100)}

    def _lists(self, ctx: Context) -> dict[str, list[str]]:
        return {key.removeprefix("list:"): value for key, value in ctx.store.items("list:").items()}

    def _name(self, ctx: Context, list_name: str | None, *, given: bool = False) -> str:
        """The list meant by ``list_name``; ``given``: a name the user gives a list (create, rename), taken as said."""
        name = (list_name or "").lower().strip()
        name = re.sub(r"^(?:the|my)(?:\s+|$)", "", name)
        if not given and name in _GROCERIES and ctx.store.get(f"list:{name}") is None:  # unless made by that name
            return "shopping"
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
        size = max(1, int(ctx.settings["read_at_once"]))
        if len(items) <= size:
            ctx.store.delete("reading")
            return Response(f"Your {name} list has {count}: {_join(items)}.", data={"list": name, "items": items})
        return self._part(ctx, name, items, 0, f"Your {name} list has {count}. ")

    def _part(self, ctx: Context, name: str, items: list[str], start: int, intro: str = "") -> Response:
        """Items ``start``.. of a long list, asking "more?" while some are left."""
        size = max(1, int(ctx.settings["read_at_once"]))
        part, left = items[start:start + size], len(items) - start - size
        data = {"list": name, "items": part, "from": start}
        if left <= 0:
            ctx.store.delete("reading")
            return Response(f"{intro}{'And last' if start else 'They are'}: {_join(part)}.", data=data)
        ctx.store.set("reading", {"list": name, "next": start + size})
        first = "The first" if start == 0 else "Next"
        more = "one more" if left == 1 else f"{left} more"
        return Response(f"{intro}{first} {len(part)}: {', '.join(part)}. There {'is' if left == 1 else 'are'} "
                        f"{more}; say more to hear {'it' if left == 1 else 'them'}.",
                        data=data, expect_reply=True, reply_handler="more_reply")

    @intent("ReadMore")
    def read_more(self, ctx: Context, list_name: str | None = None) -> Response:
        """The next part of the list being read (or the rest of the named one)."""
        reading = ctx.store.get("reading")
        name = self._name(ctx, list_name) if list_name else reading["list"] if reading else self._name(ctx, None)
        items = ctx.store.get(f"list:{name}", [])
        start = int(reading["next"]) if reading and reading["list"] == name else 0
        if start >= len(items):
            return Response(f"That's everything on your {name} list.")
        return self._part(ctx, name, items, start)

    def more_reply(self, ctx: Context, text: str) -> Response:
        """The answer after "say more to hear them": more of the list, or stop reading."""
        if _MORE.search(text.lower()):
            return self.read_more(ctx)
        ctx.store.delete("reading")
        return Response("OK.")

    @intent("ClearList")
    def clear(self, ctx: Context, list_name: str | None = None) -> Response:
        """Empty the list."""
        item = _item_off(list_name)
        if item is not None:  # "wipe flour off the shopping list": an item, not the whole list
            return self._item_or_all(ctx, *item)
        name = self._name(ctx, list_name)
        with ctx.store.transaction():
            items = ctx.store.get(f"list:{name}")
            if items is None and name != str(ctx.settings["default_list"]):
                return Response(f"You don't have a {name} list.")
            ctx.store.set(f"list:{name}", [])  # the list stays (empty) among "what lists do I have"
        return Response(f"Cleared your {name} list.")

    def _item_or_all(self, ctx: Context, item: str, list_name: str | None) -> Response:
        """An item named where a list name was expected: remove it, or, for "everything", empty the list."""
        if _EVERYTHING.fullmatch(item):
            return self.clear(ctx, list_name)
        return self.remove(ctx, item, list_name)

    @intent("CreateList")
    def create(self, ctx: Context, list_name: str) -> Response:
        """Start a new, empty list."""
        name = self._name(ctx, list_name, given=True)
        with ctx.store.transaction():
            if ctx.store.get(f"list:{name}") is not None:
                return Response(f"You already have a {name} list.", data={"list": name})
            ctx.store.set(f"list:{name}", [])
        return Response(f"Created your {name} list.", data={"list": name})

    @intent("DeleteList")
    def delete_list(self, ctx: Context, list_name: str) -> Response:
        """Delete a list; one with items asks first."""
        item = _item_off(list_name)
        if item is not None:  # "remove the milk from my shopping list": an item, not a list
            return self._item_or_all(ctx, *item)
        name = self._name(ctx, list_name)
        items = ctx.store.get(f"list:{name}")
        if items is None:
            return Response(f"You don't have a {name} list.")
        if not items:
            ctx.store.delete(f"list:{name}")
            return Response(f"Deleted your {name} list.", data={"list": name})
        ctx.store.set("deleting", name)
        return Response(f"Your {name} list has {_count(len(items))}. Delete it?", data={"list": name},
                        expect_reply=True, reply_handler="delete_reply")

    def delete_reply(self, ctx: Context, text: str) -> Response:
        """Yes (delete the list) or anything else (keep it)."""
        name = ctx.store.get("deleting")
        ctx.store.delete("deleting")
        if not name:
            return Response("OK.")
        if _YES.search(text.lower().strip()):
            ctx.store.delete(f"list:{name}")
            return Response(f"Deleted your {name} list.", data={"list": name})
        return Response(f"OK, I kept your {name} list.", data={"list": name})

    @intent("RenameList")
    def rename(self, ctx: Context, list_name: str, new_name: str) -> Response:
        """Give a list a new name (its items stay)."""
        old, new = self._name(ctx, list_name), self._name(ctx, re.sub(r"\s+list$", "", new_name.strip()), given=True)
        with ctx.store.transaction():
            items = ctx.store.get(f"list:{old}")
            if items is None:
                return Response(f"You don't have a {old} list.")
            if ctx.store.get(f"list:{new}") is not None:
                return Response(f"You already have a {new} list.")
            ctx.store.set(f"list:{new}", items)
            ctx.store.delete(f"list:{old}")
        return Response(f"Renamed your {old} list to {new}.", data={"list": new, "old": old})

    @intent("ListLists")
    def list_lists(self, ctx: Context) -> Response:
        """The names of the lists, how many there are, and how many items each has."""
        lists = self._lists(ctx)
        if not lists:
            return Response("You don't have any lists yet.", data={"lists": []})
        said = [f"{name} ({_count(len(items))})" for name, items in lists.items()]
        head = "one list" if len(lists) == 1 else f"{len(lists)} lists"
        return Response(f"You have {head}: {_join(said)}.", data={"lists": list(lists)})

    @intent("CountItems")
    def count(self, ctx: Context, list_name: str | None = None) -> Response:
        """How many items a list has."""
        name = self._name(ctx, list_name)
        items = ctx.store.get(f"list:{name}", [])
        verb = "is" if len(items) == 1 else "are"
        return Response(f"There {verb} {_count(len(items))} on your {name} list.",
                        data={"list": name, "count": len(items)})

    @intent("RemovePosition")
    def remove_position(self, ctx: Context, position: int | None = None, number: int | None = None,
                        list_name: str | None = None) -> Response:
        """Remove the first, third, last, second to last... item, or item number N."""
        name = self._name(ctx, list_name)
        index = int(position if position is not None else number or 1)
        with ctx.store.transaction():
            items = ctx.store.get(f"list:{name}", [])
            if not items:
                return Response(f"Your {name} list is empty.")
            if not -len(items) <= (index - 1 if index > 0 else index) < len(items):
                return Response(f"Your {name} list has only {_count(len(items))}.")
            gone = items.pop(index - 1 if index > 0 else index)
            ctx.store.set(f"list:{name}", items)
        which = "last" if index == -1 else "second to last" if index == -2 else _ORDINAL.get(index, f"number {index}")
        return Response(f"Removed {gone}, the {which} item, from your {name} list.",
                        data={"list": name, "removed": gone, "items": items})

    @intent("CheckOff")
    def check_off(self, ctx: Context, item: str, list_name: str | None = None) -> Response:
        """Tick items off (remove them) wherever they are: the named list, else the list they are on."""
        named = re.fullmatch(r"(.+?)\s+(?:from|off|on)\s+(?:the\s+|my\s+)?(.*?)\s*list", item.strip())
        if named is not None and not list_name:  # "check off apples from my shopping list"
            item, list_name = named.group(1), named.group(2) or None
        wanted = [re.sub(r"^(the|some|my)\s+", "", i) for i in _split(item)]
        lists = self._lists(ctx)
        if list_name:
            order = [self._name(ctx, list_name)]
        else:  # the default list first, then the others
            default = self._name(ctx, None)
            order = [default] + [n for n in lists if n != default]
        done: dict[str, list[str]] = {}
        with ctx.store.transaction():
            for want in wanted:
                for name in order:
                    items = ctx.store.get(f"list:{name}", [])
                    if want in items:
                        ctx.store.set(f"list:{name}", [i for i in items if i != want])
                        done.setdefault(name, []).append(want)
                        break
        if not done:
            where = f"your {order[0]} list" if list_name or len(order) == 1 else "any of your lists"
            return Response(f"{_join(wanted).capitalize()} {'is' if len(wanted) == 1 else 'are'} not on {where}.")
        said = "; ".join(f"{_join(items)} off your {name} list" for name, items in done.items())
        missing = [w for w in wanted if not any(w in v for v in done.values())]
        tail = f" I couldn't find {_join(missing)}." if missing else ""
        return Response(f"Checked {said}.{tail}", data={"checked": done})
