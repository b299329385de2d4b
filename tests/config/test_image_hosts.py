"""The CSP's img-src: the site, data: and the hosts article images come from (IMAGE_HOSTS)."""

import re
from pathlib import Path
from urllib.parse import urlsplit

import pytest
from django.conf import settings

from config.security import CONTENT_SECURITY_POLICY, image_sources
from tests.conftest import BASE_DIR, run_python

SAMPLE_DIRS = [BASE_DIR / "articles" / "fixtures" / "samples", BASE_DIR.parent / "shared" / "samples"]


def img_src(policy: str) -> list[str]:
    directive = next(part.strip() for part in policy.split(";") if part.strip().startswith("img-src "))
    return directive.split()[1:]


def sample_image_hosts() -> set[str]:
    hosts = set()
    for folder in SAMPLE_DIRS:
        for path in Path(folder).glob("*.txt") if folder.is_dir() else []:
            for url in re.findall(r"url: (\S+)", path.read_text(encoding="utf-8")):
                hosts.add(urlsplit(url).hostname)
    return hosts


def test_img_src_names_the_image_hosts_and_no_scheme_wildcards():
    sources = img_src(CONTENT_SECURITY_POLICY)
    assert sources[:2] == ["'self'", "data:"]
    assert sources[2:] == settings.IMAGE_HOSTS
    assert "https:" not in sources and "http:" not in sources and "*" not in sources


def test_the_default_image_hosts_cover_every_sample_article_image():
    hosts = sample_image_hosts()
    assert hosts, "no sample images found"
    assert hosts <= set(settings.IMAGE_HOSTS), hosts - set(settings.IMAGE_HOSTS)


def test_the_policy_is_sent_with_reader_pages(client, sample_article):
    response = client.get(sample_article.get_absolute_url())
    assert img_src(response["Content-Security-Policy"]) == img_src(CONTENT_SECURITY_POLICY)


def test_uploads_on_another_host_add_that_origin():
    assert image_sources(["img.example.com"], "/media/") == "'self' data: img.example.com"
    assert (
        image_sources(["img.example.com"], "https://bucket.example.net/media/")
        == "'self' data: img.example.com https://bucket.example.net"
    )


def test_image_hosts_come_from_the_environment():
    result = run_python(
        [
            "-c",
            "import django; django.setup(); import config.security as s; print(s.CONTENT_SECURITY_POLICY)",
        ],
        env={"DEBUG": "1", "IMAGE_HOSTS": "https://img.example.com, *.cdn.example.org:8443"},
    )
    assert result.returncode == 0, result.stderr
    assert img_src(result.stdout) == ["'self'", "data:", "https://img.example.com", "*.cdn.example.org:8443"]


@pytest.mark.parametrize(
    "value", ["img.example.com; script-src *", "'unsafe-inline'", "https://x.org/path", "a b"]
)
def test_a_value_that_is_not_a_host_is_refused_at_start(value):
    result = run_python(
        ["-c", "import django; django.setup()"],
        env={"DEBUG": "1", "IMAGE_HOSTS": value},
    )
    assert result.returncode != 0
    assert "IMAGE_HOSTS" in result.stderr
