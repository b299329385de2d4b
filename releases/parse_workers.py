"""Entry points of the importer's parse worker processes.

Workers start as fresh interpreters, so this module imports nothing from Django at module
level: unpickling a task must not touch models before ``django.setup()`` has run.
"""


def init_worker() -> None:
    import django

    django.setup()


def parse_document(job: tuple[str, str]):
    from releases.importing import parse_document as parse

    return parse(job)
