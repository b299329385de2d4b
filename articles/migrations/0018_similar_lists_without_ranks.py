"""Similar posts' lists without a rank column: a list is read in the order of its scores, so a
refresh writes the rows that changed, not every row below them. The top-ups of a short list keep
their order in ``top_up``, taken from their ranks here."""

from django.db import migrations, models
from django.db.models import F


def top_ups_keep_their_order(apps, schema_editor):
    SimilarArticle = apps.get_model("articles", "SimilarArticle")
    SimilarArticle.objects.filter(score=0).update(top_up=F("rank"))


class Migration(migrations.Migration):
    dependencies = [
        ("articles", "0017_live_id_index"),
    ]

    operations = [
        migrations.AddField(
            model_name="similararticle",
            name="top_up",
            field=models.PositiveSmallIntegerField(default=0),
        ),
        migrations.RunPython(top_ups_keep_their_order, migrations.RunPython.noop, elidable=True),
        migrations.AlterModelOptions(
            name="similararticle",
            options={"ordering": ["article_id", "-score", "top_up", "neighbour_id"]},
        ),
        migrations.RemoveConstraint(
            model_name="similararticle",
            name="similar_unique_rank",
        ),
        migrations.RemoveField(
            model_name="similararticle",
            name="rank",
        ),
        migrations.AddConstraint(
            model_name="similararticle",
            constraint=models.UniqueConstraint(fields=("article", "neighbour"), name="similar_unique_neighbour"),
        ),
    ]
