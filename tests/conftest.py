"""Shared pytest options for the test suite."""


def pytest_addoption(parser):
    parser.addoption("--rewrite", action="store_true",
                     help="rewrite the golden transcripts in tests/testdata from the current code")
