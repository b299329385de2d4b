"""The corpus app's commands: synthesize_articles writes a corpus, load_demo imports the sample
article and a synthesized set once, evaluate_similar refuses input it cannot use (its figures are
tested in tests/articles/test_similarity.py)."""

import io
import json

import pytest
from django.core.management import CommandError, call_command

from articles.models import Article
from corpus.generator import synthesize


def test_synthesize_articles_writes_the_generators_documents(tmp_path):
    out = io.StringIO()
    call_command(
        "synthesize_articles",
        "--count",
        "12",
        "--seed",
        "4",
        "--shape",
        "noisy",
        "--out",
        str(tmp_path),
        stdout=out,
    )
    expected = list(synthesize(12, seed=4, difficulty="noisy"))
    assert sorted(path.name for path in tmp_path.rglob("*.txt")) == sorted(d.filename for d in expected)
    for document in expected:
        assert (tmp_path / "000" / document.filename).read_text(encoding="utf-8") == document.text
    clusters = json.loads((tmp_path / "clusters.json").read_text())
    assert clusters == {d.reference: d.cluster for d in expected}
    assert "Wrote 12 documents" in out.getvalue() and "shape noisy" in out.getvalue()


@pytest.mark.parametrize(
    ("arguments", "message"),
    [
        (["--count", "-1"], "--count"),
        (["--count", "3", "--shape", "extreme"], "--shape"),
        (["--count", "three"], "--count"),
    ],
)
def test_synthesize_articles_names_the_bad_argument(tmp_path, arguments, message):
    with pytest.raises(CommandError, match=message):
        call_command("synthesize_articles", *arguments, "--out", str(tmp_path))
    assert not list(tmp_path.iterdir())


@pytest.mark.django_db
def test_load_demo_imports_the_sample_and_the_set_once(tmp_path, settings, sample_text):
    settings.VAR_DIR = tmp_path
    out = io.StringIO()
    call_command("load_demo", "--count", "8", "--seed", "2", stdout=out, stderr=io.StringIO())
    references = {d.reference for d in synthesize(8, seed=2)}
    sample_reference = next(line for line in sample_text.splitlines() if line.startswith("reference"))
    references.add(sample_reference.removeprefix("reference"))
    assert set(Article.objects.values_list("reference", flat=True)) == references
    assert out.getvalue() == "Demo content: 9 created.\n"

    again = io.StringIO()
    call_command("load_demo", "--count", "8", "--seed", "2", stdout=again)
    assert again.getvalue() == "Demo content: 9 unchanged.\n"
    assert Article.objects.count() == 9


def test_load_demo_refuses_a_negative_count(tmp_path, settings):
    settings.VAR_DIR = tmp_path
    with pytest.raises(CommandError, match="--count"):
        call_command("load_demo", "--count", "-3")
    assert not list(tmp_path.iterdir())


@pytest.mark.django_db
def test_evaluate_similar_refuses_unusable_input(tmp_path):
    with pytest.raises(CommandError, match="cannot read"):
        call_command("evaluate_similar", "--clusters", str(tmp_path / "missing.json"))
    clusters = tmp_path / "clusters.json"
    for not_a_mapping in ('["anp-ref-000000-0000"]\n', '{"anp-ref-000000-0000": 3}\n'):
        clusters.write_text(not_a_mapping)
        with pytest.raises(CommandError, match="expected a JSON object"):
            call_command("evaluate_similar", "--clusters", str(clusters))
    clusters.write_text('{"nobody-ref-000000-0000": "a / b"}\n')
    with pytest.raises(CommandError, match="unknown methods: best"):
        call_command("evaluate_similar", "--clusters", str(clusters), "--methods", "capped,best")
    with pytest.raises(CommandError, match="none of the live articles"):
        call_command("evaluate_similar", "--clusters", str(clusters))
