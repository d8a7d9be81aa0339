"""The test suite. A package, so ``tests/ui`` never shadows the top-level ``ui`` package on sys.path."""
