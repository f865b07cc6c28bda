"""Metric history keeps one secondary index: the point identity, now led by the run.

The new unique index is created before the old indexes go, so the run's foreign key always
has an index under it (MariaDB refuses to drop the last one).
"""

import django.db.models.deletion
from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("tracking", "0003_logged_models"),
        ("workspaces", "0002_default_workspace"),
    ]

    operations = [
        migrations.AddConstraint(
            model_name="metric",
            constraint=models.UniqueConstraint(
                fields=("run", "key", "timestamp", "step", "value", "is_nan"),
                name="metric_point_identity",
            ),
        ),
        migrations.RemoveConstraint(
            model_name="metric",
            name="metric_point_unique",
        ),
        migrations.AlterField(
            model_name="metric",
            name="run",
            field=models.ForeignKey(
                db_index=False,
                on_delete=django.db.models.deletion.CASCADE,
                related_name="metric_history",
                to="tracking.run",
            ),
        ),
        migrations.AlterField(
            model_name="metric",
            name="workspace",
            field=models.ForeignKey(
                db_constraint=False,
                db_index=False,
                on_delete=django.db.models.deletion.DO_NOTHING,
                related_name="+",
                to="workspaces.workspace",
            ),
        ),
    ]
