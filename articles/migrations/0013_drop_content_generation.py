"""The read cache without a content generation."""

from django.db import migrations


class Migration(migrations.Migration):
    dependencies = [("articles", "0012_full_text_search")]

    operations = []
