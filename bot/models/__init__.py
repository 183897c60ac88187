"""Every table; importing this package registers them all on Base.metadata."""

from bot.models.core import City, Park, PtbState, RoleGrant, User
from bot.models.ops import OpsError

__all__ = ["City", "OpsError", "Park", "PtbState", "RoleGrant", "User"]
