"""The set-based write helpers refuse what they cannot write faithfully."""

import pytest

from parts.batch_writes import bulk_insert_columns
from parts.models import Part


def test_a_model_that_sets_its_own_values_on_save_is_not_inserted_column_by_column():
    # Part has auto_now fields: storing the given values as they are would skip them.
    with pytest.raises(ValueError):
        bulk_insert_columns(Part, {"part_number": ["X"]}, constants={})
