"""The roles (sopgate 0009) also edit work calendars and capacity plans, attach a part's evidence files, read the
alert and digest logs, and read users (to pick owners): what the ramp, the evidence files and the admin's owner
fields need. Frozen here; `sopgate.roles.ROLE_PERMISSIONS` is the whole set."""

from django.contrib.auth.management import create_permissions
from django.db import migrations

GRANTS = {
    "sopgate": {"workcalendar": ("view", "add", "change", "delete"), "alert": ("view",), "digestdelivery": ("view",)},
    "parts": {"capacityline": ("view", "add", "change", "delete"), "evidencefile": ("view", "add")},
    "auth": {"user": ("view",)},
}
ROLES = ["engineers", "launch_managers"]


def _permissions(apps):
    Permission = apps.get_model("auth", "Permission")
    wanted = [
        (app, f"{action}_{model}")
        for app, models in GRANTS.items()
        for model, actions in models.items()
        for action in actions
    ]
    return [Permission.objects.get(content_type__app_label=app, codename=codename) for app, codename in wanted]


def grant(apps, schema_editor):
    # Permissions are made after the migrations run; the groups need these now.
    for label in GRANTS:
        app_config = apps.get_app_config(label)
        app_config.models_module = True
        create_permissions(app_config, apps=apps, verbosity=0)
        app_config.models_module = None
    permissions = _permissions(apps)
    for group in apps.get_model("auth", "Group").objects.filter(name__in=ROLES):
        group.permissions.add(*permissions)


def revoke(apps, schema_editor):
    permissions = _permissions(apps)
    for group in apps.get_model("auth", "Group").objects.filter(name__in=ROLES):
        group.permissions.remove(*permissions)


class Migration(migrations.Migration):
    dependencies = [
        ("sopgate", "0014_digest_deliveries_name"),
        ("parts", "0013_capacity_plan_run_at_rate"),
        ("auth", "0012_alter_user_first_name_max_length"),
    ]

    operations = [migrations.RunPython(grant, revoke)]
