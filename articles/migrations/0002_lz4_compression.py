from django.db import migrations

from articles.migration_ops import lz4_compression


class Migration(migrations.Migration):
    dependencies = [("articles", "0001_initial")]

    operations = [lz4_compression("articles_article", ["body", "body_text", "outline", "payload"])]
