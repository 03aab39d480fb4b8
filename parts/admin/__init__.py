"""The parts app's admin: parts (`part`) and suppliers with their portal users and updates (`supplier`)."""

from . import part, supplier  # noqa: F401 - registers the model admins
