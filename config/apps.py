from django.contrib.admin.apps import AdminConfig


class KnowledgeBaseAdminConfig(AdminConfig):
    default_site = "config.admin.KnowledgeBaseAdminSite"
