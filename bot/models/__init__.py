"""Every table; importing this package registers them all on Base.metadata."""

from bot.models import members  # noqa: F401  (registers the members and campaigns tables)
from bot.models.core import City, Park, PtbState, RoleGrant, User
from bot.models.events import Event, EventPark, EventReminder, Rsvp  # noqa: F401
from bot.models.faq import FaqForward, FaqQuestion
from bot.models.ops import OpsError
from bot.models.outbox import Broadcast, OutboxRow  # noqa: F401  (outbox tables)
from bot.models.reports import ReportSend, ReportSubmission  # noqa: F401  (registers reports)
from bot.models.robots import Robot

__all__ = [
    "City",
    "FaqForward",
    "FaqQuestion",
    "OpsError",
    "Park",
    "PtbState",
    "Robot",
    "RoleGrant",
    "User",
]
