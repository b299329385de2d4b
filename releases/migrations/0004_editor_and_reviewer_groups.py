"""The Editors and Reviewers groups with their permissions."""

from django.contrib.auth.management import create_permissions
from django.db import migrations

EDITOR_PERMISSIONS = [
    ("articles", "view_article"),
    ("articles", "change_article"),
    ("articles", "view_tag"),
    ("articles", "view_entity"),
    ("articles", "view_imagesource"),
    ("releases", "view_revision"),
    ("releases", "view_auditevent"),
    ("releases", "submit_article"),
]
REVIEWER_PERMISSIONS = EDITOR_PERMISSIONS + [
    ("releases", "review_article"),
    ("releases", "publish_article"),
]
GROUPS = {"Editors": EDITOR_PERMISSIONS, "Reviewers": REVIEWER_PERMISSIONS}


def create_groups(apps, schema_editor):
    for app_config in apps.get_app_configs():
        app_config.models_module = True
        create_permissions(app_config, verbosity=0, apps=apps)
        app_config.models_module = None
    Group = apps.get_model("auth", "Group")
    Permission = apps.get_model("auth", "Permission")
    for name, codes in GROUPS.items():
        group, _ = Group.objects.get_or_create(name=name)
        for app_label, codename in codes:
            group.permissions.add(
                Permission.objects.get(content_type__app_label=app_label, codename=codename)
            )


def remove_groups(apps, schema_editor):
    apps.get_model("auth", "Group").objects.filter(name__in=GROUPS).delete()


class Migration(migrations.Migration):
    dependencies = [
        ("auth", "0012_alter_user_first_name_max_length"),
        ("contenttypes", "0002_remove_content_type_name"),
        ("articles", "0003_workflow_fields"),
        ("releases", "0003_workflow"),
    ]

    operations = [migrations.RunPython(create_groups, remove_groups)]
