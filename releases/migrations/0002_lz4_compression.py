from django.db import migrations

from articles.migration_ops import lz4_compression


class Migration(migrations.Migration):
    dependencies = [("releases", "0001_initial")]

    operations = [lz4_compression("releases_revision", ["content"])]
