"""Metric history drops its database constraint to the run; the code keeps the guarantee.

Points are written only under the run's row lock and runs are deleted only through the ORM's
cascade (see ``tracking.models.Metric``). The point identity's unique index, led by the run,
stays, so deleting a run's history still finds its rows by index.
"""

import django.db.models.deletion
from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("tracking", "0004_metric_history_indexes"),
    ]

    operations = [
        migrations.AlterField(
            model_name="metric",
            name="run",
            field=models.ForeignKey(
                db_constraint=False,
                db_index=False,
                on_delete=django.db.models.deletion.CASCADE,
                related_name="metric_history",
                to="tracking.run",
            ),
        ),
    ]
