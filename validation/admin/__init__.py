"""The validation admin: tests (`validation_tests`), handover checklists and items (`handover`) and an item's
evidence files (`item_files`). Importing the package registers them."""

from . import handover, validation_tests  # noqa: F401 (importing registers the model admins)
