"""Tests for the synthetic page-text corpus (corpus.generator, corpus.shapes, corpus.rendering):
determinism, streaming, the files written by write_corpus, the layout of every document against
the real sample export, and the shapes.

No database is needed: the generator is plain Python.
"""

import datetime as dt
import inspect
import itertools
import json
import re
import threading
from collections import Counter

import pytest

from articles.parsing import parse_page
from corpus.generator import SHAPES, SynthesizedDocument, synthesize, synthesize_document, write_corpus
from corpus.topics import CLUSTERS, COMBINATIONS, NOISE_TAGS, PROBLEMS, SITES, STACKS

SCALAR_KEYS = (
    "code language", "reading time", "view count", "ai brief", "difficulty", "reference", "summary",
    "topic", "hash",
)  # fmt: skip
BLOCK_KEYS = {
    "ai outline", "stack", "tools", "score", "revision", "flags", "checklist", "entities",
    "image sources", "payload", "notes",
}  # fmt: skip
META_ORDER = [
    "topic", "summary", "ai outline", "ai brief", "stack", "tools", "code language", "difficulty",
    "reading time", "view count", "score", "revision", "reference", "hash", "flags", "checklist",
    "entities", "image sources", "payload", "notes",
]  # fmt: skip
REFERENCE_RE = re.compile(r"^(anp|bbt|ggd)-ref-(\d{6,})-(\d{4})$")
CODE_LANGUAGES = {"python", "go", "rust", "javascript", "typescript", "java", "php", "ruby", "sql", "bash"}
CLUSTER_BY_NAME = {cluster.name: cluster for cluster in CLUSTERS}
BULLET = "  \u2022 "
RECORD_BULLET = "    \u2022 "


def split_document(text: str) -> tuple[list[str], str, list[str]]:
    """Return (body lines from the title on, site, meta lines), checking the frame on the way."""
    lines = text.split("\n")
    assert lines[-1] == "", "the document must end with a newline"
    lines.pop()
    headers = [index for index, line in enumerate(lines) if line.endswith(" post meta")]
    assert len(headers) == 1, f"expected one '<site> post meta' line, found {len(headers)}"
    header = headers[0]
    site = lines[header].removesuffix(" post meta")
    assert lines[header - 1] == "" and lines[header + 1] == ""
    assert lines[-1] == "Similar Posts" and lines[-2] == ""
    assert lines.count("Similar Posts") == 1
    return lines[:header], site, lines[header + 2 : -2]


def read_meta(meta_lines: list[str]) -> list[tuple[str, object]]:
    """The meta entries in document order: (key, value) for scalars, (key, [bullet texts]) otherwise."""
    entries: list[tuple[str, object]] = []
    for line in meta_lines:
        if line.startswith((BULLET, RECORD_BULLET)):
            assert entries and isinstance(entries[-1][1], list), f"stray bullet {line!r}"
            entries[-1][1].append(line.split("\u2022 ", 1)[1])
        elif line in BLOCK_KEYS:
            entries.append((line, []))
        else:
            key = next((key for key in SCALAR_KEYS if line.startswith(key)), None)
            assert key is not None, f"unrecognised meta line {line!r}"
            entries.append((key, line[len(key) :]))
    return entries


def record(value: list[str]) -> dict[str, str]:
    return dict(item.split(": ", 1) for item in value)


def record_list(value: list[str], first_field: str) -> list[dict[str, str]]:
    records: list[dict[str, str]] = []
    for item in value:
        name, field_value = item.split(": ", 1)
        if name == first_field:
            records.append({})
        records[-1][name] = field_value
    return records


def figures(body: list[str]) -> list[tuple[str, str]]:
    """(caption, source) of every figure in the body: a caption line, then `caption. image source: s`."""
    found = []
    for line, following in itertools.pairwise(body):
        prefix = f"{line}. image source: "
        if line and following.startswith(prefix):
            found.append((line, following[len(prefix) :]))
    return found


def parsed(document: SynthesizedDocument) -> dict:
    body, site, meta_lines = split_document(document.text)
    entries = read_meta(meta_lines)
    return {"body": body, "site": site, "keys": [key for key, _ in entries], "meta": dict(entries)}


@pytest.fixture(scope="module")
def normal_docs() -> list[SynthesizedDocument]:
    return list(synthesize(2000, seed=11))


@pytest.fixture(scope="module")
def hard_docs() -> list[SynthesizedDocument]:
    return list(synthesize(2000, seed=11, difficulty="hard"))


@pytest.fixture(params=["normal", "hard"])
def corpus(request, normal_docs, hard_docs) -> list[SynthesizedDocument]:
    return normal_docs if request.param == "normal" else hard_docs


# --------------------------------------------------------------------------- generation


@pytest.mark.parametrize("difficulty", ["normal", "hard"])
def test_same_arguments_give_identical_documents(difficulty):
    first = list(synthesize(60, seed=7, difficulty=difficulty))
    second = list(synthesize(60, seed=7, difficulty=difficulty))
    assert first == second


@pytest.mark.parametrize("difficulty", ["normal", "hard"])
def test_a_different_seed_gives_different_documents(difficulty):
    first = list(synthesize(60, seed=1, difficulty=difficulty))
    second = list(synthesize(60, seed=2, difficulty=difficulty))
    assert all(a.text != b.text for a, b in zip(first, second, strict=True))
    assert [a.reference for a in first] != [b.reference for b in second]


def test_a_document_does_not_depend_on_the_ones_before_it():
    long = list(synthesize(40, seed=5, difficulty="hard"))
    assert list(synthesize(10, seed=5, difficulty="hard")) == long[:10]
    assert [synthesize_document(i, seed=5, difficulty="hard") for i in range(30, 40)] == long[30:]


def test_hard_documents_keep_the_cluster_of_their_normal_twin(normal_docs, hard_docs):
    assert [d.cluster for d in hard_docs] == [d.cluster for d in normal_docs]
    assert [d.reference for d in hard_docs] == [d.reference for d in normal_docs]
    assert all(h.text != n.text for h, n in zip(hard_docs, normal_docs, strict=True))


@pytest.mark.parametrize("count", [0, 1, 7, 1001])
def test_count_is_honoured(count):
    assert sum(1 for _ in synthesize(count, seed=3)) == count


def test_invalid_arguments_fail_at_the_call_not_on_iteration():
    with pytest.raises(ValueError, match="count"):
        synthesize(-1)
    with pytest.raises(ValueError, match="difficulty"):
        synthesize(5, difficulty="extreme")
    with pytest.raises(ValueError, match="difficulty"):
        write_corpus("unused", 5, difficulty="extreme")


def test_synthesize_streams_a_huge_corpus():
    taken: list[SynthesizedDocument] = []

    def take_five() -> None:
        stream = synthesize(10**9, seed=1)
        assert inspect.isgenerator(stream)
        taken.extend(itertools.islice(stream, 5))

    worker = threading.Thread(target=take_five, daemon=True)
    worker.start()
    worker.join(timeout=30)
    assert not worker.is_alive(), "taking 5 documents from synthesize(10**9) did not return"
    assert [d.reference for d in taken] == [synthesize_document(i, seed=1).reference for i in range(5)]


def test_references_are_unique_and_carry_the_index(corpus):
    references = [d.reference for d in corpus]
    assert len(set(references)) == len(references)
    for index, document in enumerate(corpus):
        match = REFERENCE_RE.match(document.reference)
        assert match, document.reference
        assert int(match.group(2)) == index
        assert document.filename == f"{document.reference}.txt"
        assert f"\nreference{document.reference}\n" in document.text


def test_references_stay_unique_past_a_million():
    document = synthesize_document(1_234_567, seed=0)
    assert REFERENCE_RE.match(document.reference).group(2) == "1234567"


def test_titles_are_mostly_unique(normal_docs, hard_docs):
    for docs, share in ((normal_docs, 0.95), (hard_docs, 0.85)):
        titles = [d.text.split("\n", 1)[0] for d in docs]
        assert len(set(titles)) >= share * len(titles)


# --------------------------------------------------------------------------- write_corpus


@pytest.mark.parametrize("difficulty", ["normal", "hard"])
def test_write_corpus_writes_sharded_files_and_clusters(tmp_path, difficulty):
    out_dir = tmp_path / "corpus"
    seen: list[int] = []
    written = write_corpus(out_dir, 2050, seed=4, difficulty=difficulty, progress=seen.append)

    assert written == 2050
    assert seen == list(range(1, 2051))
    shards = sorted(path.name for path in out_dir.iterdir() if path.is_dir())
    assert shards == ["000", "001", "002"]
    assert [len(list((out_dir / shard).iterdir())) for shard in shards] == [1000, 1000, 50]

    clusters = json.loads((out_dir / "clusters.json").read_text(encoding="utf-8"))
    documents = list(synthesize(2050, seed=4, difficulty=difficulty))
    assert clusters == {d.reference: d.cluster for d in documents}
    assert list(clusters) == [d.reference for d in documents]
    assert set(clusters.values()) <= set(CLUSTER_BY_NAME)
    for index, document in enumerate(documents):
        path = out_dir / f"{index // 1000:03d}" / document.filename
        assert path.read_bytes() == document.text.encode("utf-8")


def test_write_corpus_of_nothing_still_writes_clusters(tmp_path):
    assert write_corpus(tmp_path / "empty", 0) == 0
    assert json.loads((tmp_path / "empty" / "clusters.json").read_text(encoding="utf-8")) == {}


# --------------------------------------------------------------------------- layout


def test_the_meta_reader_agrees_with_the_sample(sample_text):
    body, site, meta_lines = split_document(sample_text + "\n")
    assert site == "alphanode"
    assert [key for key, _ in read_meta(meta_lines)] == META_ORDER
    assert figures(body)


def test_meta_entries_come_in_the_sample_order(normal_docs, hard_docs):
    for document in normal_docs:
        page = parsed(document)
        expected = [key for key in META_ORDER if key != "image sources" or "image sources" in page["meta"]]
        assert page["keys"] == expected, document.reference
    for document in hard_docs:
        keys = parsed(document)["keys"]
        assert keys == [key for key in META_ORDER if key in keys], document.reference
        assert {"topic", "reference", "hash", "flags", "payload"} <= set(keys)


def test_every_document_has_the_frame_of_an_export(corpus):
    for document in corpus:
        assert "\r" not in document.text and "\t\n" not in document.text
        assert document.text.endswith("\n\nSimilar Posts\n")
        page = parsed(document)
        assert page["site"] in SITES
        assert document.reference.startswith(SITES[page["site"]] + "-ref-")
        title = page["body"][0]
        assert title and title == title.lower() and page["body"][1] == ""
        assert page["meta"]["reference"] == document.reference


def test_scalars_have_no_separator(corpus):
    for document in corpus:
        meta = parsed(document)["meta"]
        for key in SCALAR_KEYS:
            value = meta[key]
            assert value and value[0] not in " :\t", (key, value)
            if key not in ("code language", "reading time", "view count", "difficulty", "hash"):
                assert value == value.lower(), (key, value)
        assert meta["reading time"].isdigit() and meta["view count"].isdigit()
        assert re.fullmatch(r"[0-9a-f]{24}", meta["hash"])
        assert meta["difficulty"] in {"beginner", "intermediate", "advanced"}
        assert meta["code language"] in CODE_LANGUAGES


def test_records_hold_valid_values(corpus):
    for document in corpus:
        meta = parsed(document)["meta"]
        scores = record(meta["score"])
        assert list(scores) == ["quality", "freshness", "depth", "clarity"]
        assert all(0 <= int(value) <= 100 for value in scores.values())
        revision = record(meta["revision"])
        assert list(revision) == ["status", "version", "last reviewed"]
        assert revision["status"] in {"reviewed", "draft"}
        assert re.fullmatch(r"\d+\.\d+\.\d+", revision["version"])
        assert dt.date.fromisoformat(revision["last reviewed"]).year in (2025, 2026)
        flags = record(meta["flags"])
        assert list(flags) == ["ai generated style", "has images", "image heavy", "needs human review"]
        assert set(flags.values()) <= {"0", "1"}
        payload = record(meta["payload"])
        assert list(payload) == ["source id", "generator", "paragraphs", "scenario", "seed"]
        assert 2 <= int(payload["paragraphs"]) <= 5 and payload["seed"].isdigit()
        assert 3 <= len(meta["checklist"]) <= 6
        assert 1 <= len(meta["notes"]) <= 3
        if "ai outline" in meta:
            assert list(record(meta["ai outline"])) == ["context", "problem", "stack", "recommended action"]
        for entity in record_list(meta.get("entities", []), "name"):
            assert list(entity) == ["name", "type"] and entity["type"] in {"stack", "area", "problem", "tool"}


def test_image_sources_appear_only_with_images(corpus):
    counts = Counter()
    for document in corpus:
        page = parsed(document)
        flags = record(page["meta"]["flags"])
        sources = record_list(page["meta"].get("image sources", []), "source")
        counts[len(sources)] += 1
        assert ("image sources" in page["meta"]) == (flags["has images"] == "1")
        assert len(sources) <= 4
        assert flags["image heavy"] == ("1" if len(sources) >= 3 else "0")
        assert len(figures(page["body"])) == len(sources)
        for source in sources:
            assert list(source) == ["source", "url", "caption"]
            assert source["url"].startswith("https://") and " " not in source["url"]
    assert set(counts) == {0, 1, 2, 3, 4}


def test_every_figure_caption_matches_an_image_source(corpus):
    for document in corpus:
        page = parsed(document)
        sources = record_list(page["meta"].get("image sources", []), "source")
        assert figures(page["body"]) == [(source["caption"], source["source"]) for source in sources]


def test_no_body_line_looks_like_a_meta_header_or_end_marker(corpus):
    for document in corpus:
        body = parsed(document)["body"]
        assert not any(line.endswith(" post meta") or line == "Similar Posts" for line in body)


def test_about_three_quarters_of_documents_go_live(corpus):
    live = 0
    for document in corpus:
        meta = parsed(document)["meta"]
        revision, flags = record(meta["revision"]), record(meta["flags"])
        live += revision["status"] == "reviewed" and flags["needs human review"] == "0"
    assert 0.68 <= live / len(corpus) <= 0.82


# --------------------------------------------------------------------------- clusters


def test_normal_documents_use_their_clusters_vocabulary(normal_docs):
    assert len({d.cluster for d in normal_docs}) >= 35
    for document in normal_docs:
        cluster = CLUSTER_BY_NAME[document.cluster]
        page = parsed(document)
        meta = page["meta"]
        assert meta["topic"] == cluster.name
        assert meta["stack"] == [cluster.stack, cluster.area, cluster.language]
        assert 3 <= len(meta["tools"]) <= 6 and set(meta["tools"]) <= set(cluster.tools)
        assert meta["code language"] == cluster.code_language
        entities = record_list(meta["entities"], "name")
        assert entities[:3] == [
            {"name": cluster.stack, "type": "stack"},
            {"name": cluster.area, "type": "area"},
            {"name": cluster.problem, "type": "problem"},
        ]
        assert cluster.stack in "\n".join(page["body"])


def test_hard_documents_are_noisier(normal_docs, hard_docs):
    tags = noise = borrowed = lost_entities = no_outline = generic_titles = 0
    for twin, document in zip(normal_docs, hard_docs, strict=True):
        cluster = CLUSTER_BY_NAME[document.cluster]
        page = parsed(document)
        meta = page["meta"]
        document_tags = meta["stack"] + meta["tools"]
        tags += len(document_tags)
        noise += sum(tag in NOISE_TAGS for tag in document_tags)
        borrowed += any(tool not in cluster.tools and tool not in NOISE_TAGS for tool in meta["tools"])
        twin_entities = record_list(parsed(twin)["meta"]["entities"], "name")
        lost_entities += len(record_list(meta.get("entities", []), "name")) < len(twin_entities)
        no_outline += "ai outline" not in meta
        generic_titles += cluster.stack not in page["body"][0]
    count = len(hard_docs)
    assert 0.25 <= noise / tags <= 0.35
    assert 0.4 <= borrowed / count <= 0.7  # area-wide tool pools and tools from other clusters
    assert 0.22 <= lost_entities / count <= 0.38
    assert 0.1 <= no_outline / count <= 0.3
    assert generic_titles / count >= 0.5


# --------------------------------------------------------------------------- the project's parser


@pytest.mark.parametrize("difficulty", ["normal", "hard"])
def test_the_parser_accepts_synthesized_documents(difficulty):
    for document in synthesize(300, seed=21, difficulty=difficulty):
        result = parse_page(document.text)
        assert result.ok, (document.reference, result.errors)
        assert not result.errors and not result.warnings, (document.reference, result.errors, result.warnings)


@pytest.mark.parametrize("difficulty", ["normal", "hard"])
def test_the_parser_reads_the_intended_body_blocks(difficulty):
    for document in synthesize(300, seed=21, difficulty=difficulty):
        page = parse_page(document.text).page
        kinds = Counter(block.kind for block in page.body)
        assert page.reference == document.reference
        assert kinds["paragraph"] == page.payload["paragraphs"], (document.reference, kinds)
        assert kinds["figure"] == len(page.image_sources)
        assert kinds["code"] <= 1
        assert all(block.items == page.checklist for block in page.body if block.kind == "list")


# --------------------------------------------------------------------------- corpus shapes


@pytest.fixture(scope="module")
def shaped_docs() -> dict[str, list[SynthesizedDocument]]:
    return {shape: list(synthesize(1500, seed=11, difficulty=shape)) for shape in SHAPES[2:]}


def attribute_shares(docs: list[SynthesizedDocument]) -> tuple[Counter, Counter]:
    problems = Counter(d.cluster.split(" / ")[0] for d in docs)
    stacks = Counter(d.cluster.split(" / ")[1] for d in docs)
    return (
        Counter({k: v / len(docs) for k, v in problems.items()}),
        Counter({k: v / len(docs) for k, v in stacks.items()}),
    )


def test_combination_topics_are_made_of_common_attributes(shaped_docs):
    docs = shaped_docs["combination"]
    assert {d.cluster for d in docs} == {c.name for c in COMBINATIONS} and len(COMBINATIONS) == 60
    problems, stacks = attribute_shares(docs)
    assert len(problems) == len(PROBLEMS) and len(stacks) == len(STACKS)
    assert all(0.05 <= share <= 0.2 for share in [*problems.values(), *stacks.values()])
    # No tag or entity belongs to one topic alone: each is carried by at least five topics.
    topics_of: dict[str, set[str]] = {}
    for document in docs:
        meta = parsed(document)["meta"]
        for tag in meta["stack"] + meta["tools"]:
            topics_of.setdefault(tag, set()).add(document.cluster)
        page_topic = meta["topic"]
        assert page_topic == document.cluster
    assert min(len(topics) for topics in topics_of.values()) >= 5


def test_zipf_topic_sizes_are_skewed(shaped_docs):
    sizes = sorted(Counter(d.cluster for d in shaped_docs["zipf"]).values(), reverse=True)
    assert sizes[0] >= 15 * sizes[-1]
    assert sum(sizes[:6]) >= 0.35 * sum(sizes)  # the head holds a third of the corpus


def test_noisy_documents_are_blurred_and_sites_have_their_house_style(shaped_docs):
    blurred = no_problem = vague = 0
    for clean, noisy in zip(shaped_docs["combination"], shaped_docs["noisy"], strict=True):
        assert clean.cluster == noisy.cluster
        meta = parsed(noisy)["meta"]
        cluster = next(c for c in COMBINATIONS if c.name == noisy.cluster)
        blurred += clean.text != noisy.text
        no_problem += "problem" not in {e["type"] for e in record_list(meta.get("entities", []), "name")}
        vague += meta["topic"] != cluster.name
    assert 0.4 <= blurred / 1500 <= 0.6
    assert 0.15 <= no_problem / 1500 <= 0.35 and 0.1 <= vague / 1500 <= 0.3
    for document in shaped_docs["sites"]:
        page = parsed(document)
        assert page["site"] in page["meta"]["stack"]
        assert page["body"][0].split(":")[0] in {"alphanode engineering", "betabyte tech notes"} | {
            "from the gammagrid platform team"
        }


@pytest.mark.parametrize("shape", SHAPES[2:])
def test_every_shape_is_deterministic_and_parses(shape):
    first = list(synthesize(40, seed=3, difficulty=shape))
    assert first == list(synthesize(40, seed=3, difficulty=shape))
    for document in first:
        result = parse_page(document.text)
        assert result.ok and not result.warnings, (document.reference, result.errors, result.warnings)
