"""Full-text search."""

from django.db import migrations


class Migration(migrations.Migration):
    dependencies = [("articles", "0011_similar_postings")]

    operations = []
