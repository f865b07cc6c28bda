import time

from django.conf import settings
from django.db import migrations


def create_default_experiment(apps, schema_editor):
    """Experiment 0, ``Default``, in the ``default`` workspace, as MLflow creates it."""
    Workspace = apps.get_model("workspaces", "Workspace")
    Experiment = apps.get_model("tracking", "Experiment")
    default = Workspace.objects.get(name="default")
    if Experiment._base_manager.filter(experiment_id=0).exists():
        return
    root = settings.MLFLOW_DEFAULT_ARTIFACT_ROOT
    suffix = "workspaces/default/0" if settings.MLFLOW_ENABLE_WORKSPACES else "0"
    separator = "" if root.endswith(("/", ":")) else "/"
    now = int(time.time() * 1000)
    Experiment._base_manager.create(
        experiment_id=0,
        workspace=default,
        name="Default",
        artifact_location=f"{root}{separator}{suffix}" if root else suffix,
        lifecycle_stage="active",
        creation_time=now,
        last_update_time=now,
    )


class Migration(migrations.Migration):
    dependencies = [
        ("tracking", "0001_tracking"),
        ("workspaces", "0002_default_workspace"),
    ]

    operations = [
        # Reverse is a no-op: experiment 0 may hold runs by then.
        migrations.RunPython(create_default_experiment, migrations.RunPython.noop),
    ]
