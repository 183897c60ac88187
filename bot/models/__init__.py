"""Every table; importing this package registers them all on Base.metadata."""

from bot.models.core import City, Park, PtbState, RoleGrant, User
from bot.models.reports import ReportSend, ReportSubmission  # noqa: F401  (registers reports)

__all__ = ["City", "Park", "PtbState", "RoleGrant", "User"]
