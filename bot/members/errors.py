"""Errors of the members and campaigns domain; each carries the text key that explains it."""

from __future__ import annotations


class MembersError(Exception):
    """A request the domain refuses; `key` names the user-facing explanation in the texts."""

    key = "members.error.generic"

    def __init__(self, key: str | None = None, **values: object) -> None:
        super().__init__(key or self.key)
        if key:
            self.key = key
        self.values = values


class InvalidInput(MembersError):
    """A value typed by a person does not pass validation."""

    key = "members.error.invalid"


class NotFound(MembersError):
    """The record does not exist or lies outside the actor's scope (both look the same)."""

    key = "members.error.not_found"


class Denied(MembersError):
    """The actor's roles do not allow this action."""

    key = "members.error.denied"


class Conflict(MembersError):
    """The record is not in a state that allows this action."""

    key = "members.error.conflict"
