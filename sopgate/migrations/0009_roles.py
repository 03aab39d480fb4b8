"""The roles of DOMAIN.md "Trust" as Django groups: `engineers` and `launch_managers`, with the model permissions
their work needs in the admin (see sopgate/roles.py for what each may do beyond them)."""

from django.contrib.auth.management import create_permissions
from django.db import migrations

ENGINEER_MODELS = {
    "sopgate": ["program", "rampstep", "blocker", "readinesssnapshot"],
    "parts": ["supplier", "part", "supplierupdate", "supplieruser"],
    "validation": ["validationtest", "handoverchecklist", "handoveritem"],
}
READ_ONLY = {"blocker", "readinesssnapshot", "supplierupdate"}


def create_roles(apps, schema_editor):
    # Permissions are made after the migrations run; these groups need them now.
    for app_config in apps.get_app_configs():
        app_config.models_module = True
        create_permissions(app_config, apps=apps, verbosity=0)
        app_config.models_module = None
    Group = apps.get_model("auth", "Group")
    Permission = apps.get_model("auth", "Permission")
    wanted = []
    for app_label, models in ENGINEER_MODELS.items():
        for model in models:
            actions = ["view"] if model in READ_ONLY else ["view", "add", "change", "delete"]
            wanted += [(app_label, f"{action}_{model}") for action in actions]
    permissions = [
        Permission.objects.get(content_type__app_label=app_label, codename=codename) for app_label, codename in wanted
    ]
    for name in ("engineers", "launch_managers"):
        group, _ = Group.objects.get_or_create(name=name)
        group.permissions.add(*permissions)


def remove_roles(apps, schema_editor):
    apps.get_model("auth", "Group").objects.filter(name__in=["engineers", "launch_managers"]).delete()


class Migration(migrations.Migration):
    dependencies = [
        ("sopgate", "0008_program_archived_at"),
        ("parts", "0011_history_keeps_actor_username"),
        ("validation", "0005_trust_waiver_reason_and_delegates"),
        ("auth", "0012_alter_user_first_name_max_length"),
        ("contenttypes", "0002_remove_content_type_name"),
    ]

    operations = [migrations.RunPython(create_roles, remove_roles)]
