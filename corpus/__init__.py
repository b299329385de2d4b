"""The synthetic corpus: generated page-text documents for demos, benchmarks and the
similar-posts evaluation, and the evaluation itself. Not part of the runtime knowledge base:
nothing in `articles` or `releases` imports it (docs/corpus.md)."""
