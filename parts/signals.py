from django.dispatch import Signal

# Sent by bulk writes that bypass post_save, with `program_ids`: the programs whose gate inputs changed.
program_data_changed = Signal()
