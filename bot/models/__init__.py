"""Every table; importing this package registers them all on Base.metadata."""

from bot.models.core import City, Park, PtbState, RoleGrant, User
from bot.models.faq import FaqForward, FaqQuestion

__all__ = ["City", "FaqForward", "FaqQuestion", "Park", "PtbState", "RoleGrant", "User"]
