"""The change history's own columns: who made a change, by name, so the record outlives the login.

django-simple-history keeps the actor as a foreign key to the user (`history_user`), which a deleted user nulls
(or, where the key carries no constraint, leaves pointing at nothing): the name was lost with the user. Every
tracked model's history takes `HistoricalRecords(bases=[HistoricalActor])`, and the library's
`pre_create_historical_record` signal writes the actor's username next to the key as each row is made.
A row written without the library's save (parts.batch_writes.bulk_history_snapshot) writes the name itself.
"""

from django.db import models
from django.dispatch import receiver
from simple_history.signals import pre_create_historical_record


class HistoricalActor(models.Model):
    history_username = models.CharField(
        "changed by", max_length=150, blank=True, editable=False, help_text="Kept when the user is deleted."
    )

    class Meta:
        abstract = True


def actor_username(user) -> str:
    """The name a history row keeps of `user` (None, or anonymous, is nobody)."""
    if user is None or not getattr(user, "is_authenticated", False):
        return ""
    return user.get_username()


@receiver(pre_create_historical_record)
def _keep_actor_username(sender, history_instance, history_user=None, **kwargs):
    if isinstance(history_instance, HistoricalActor) and not history_instance.history_username:
        history_instance.history_username = actor_username(history_user)
