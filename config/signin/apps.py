from django.apps import AppConfig


class SignInConfig(AppConfig):
    name = "config.signin"
    label = "signin"
    verbose_name = "Sign-in throttling"
    default_auto_field = "django.db.models.BigAutoField"
