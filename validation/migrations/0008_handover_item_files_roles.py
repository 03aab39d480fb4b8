"""The roles (sopgate 0009) may read and attach a handover item's evidence files in the admin; a file is never
changed or removed, so neither role gets those permissions."""

from django.contrib.auth.management import create_permissions
from django.db import migrations

CODENAMES = ["view_handoveritemfile", "add_handoveritemfile"]


def grant(apps, schema_editor):
    # Permissions are made after the migrations run; the groups need these now.
    app_config = apps.get_app_config("validation")
    app_config.models_module = True
    create_permissions(app_config, apps=apps, verbosity=0)
    app_config.models_module = None
    Group = apps.get_model("auth", "Group")
    Permission = apps.get_model("auth", "Permission")
    permissions = Permission.objects.filter(content_type__app_label="validation", codename__in=CODENAMES)
    for group in Group.objects.filter(name__in=["engineers", "launch_managers"]):
        group.permissions.add(*permissions)


def revoke(apps, schema_editor):
    Group = apps.get_model("auth", "Group")
    Permission = apps.get_model("auth", "Permission")
    permissions = Permission.objects.filter(content_type__app_label="validation", codename__in=CODENAMES)
    for group in Group.objects.filter(name__in=["engineers", "launch_managers"]):
        group.permissions.remove(*permissions)


class Migration(migrations.Migration):
    dependencies = [
        ("validation", "0007_handover_item_files"),
        ("sopgate", "0009_roles"),
    ]

    operations = [migrations.RunPython(grant, revoke)]
