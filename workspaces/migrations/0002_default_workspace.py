from django.db import migrations


def create_default_workspace(apps, schema_editor):
    Workspace = apps.get_model("workspaces", "Workspace")
    Workspace.objects.get_or_create(
        name="default", defaults={"description": "Default workspace for legacy resources"}
    )


class Migration(migrations.Migration):
    dependencies = [("workspaces", "0001_workspace")]

    operations = [
        # Reverse is a no-op: the default workspace may already hold data we must not drop.
        migrations.RunPython(create_default_workspace, migrations.RunPython.noop),
    ]
