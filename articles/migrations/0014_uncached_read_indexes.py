"""Indexes for uncached reads."""

from django.db import migrations


class Migration(migrations.Migration):
    dependencies = [("articles", "0013_drop_content_generation")]

    operations = []
