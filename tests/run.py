#!/usr/bin/env python3
"""Integration test runner: discovers tests/<dir>/test_*.py (unittest) and
prints one closing line 'N passed, N failed, N skipped'. Exit 1 on failure.

Usage: tests/run.py DIR... [-k PATTERN]"""
import os
import sys
import unittest

def main():
    args = sys.argv[1:]
    pattern = None
    if '-k' in args:
        i = args.index('-k')
        pattern = args[i + 1]
        del args[i:i + 2]
    top = os.path.dirname(os.path.abspath(__file__))
    sys.path.insert(0, top)
    loader = unittest.TestLoader()
    if pattern:
        loader.testNamePatterns = ['*%s*' % pattern]
    suite = unittest.TestSuite()
    for d in args or ['tests/api', 'tests/fs']:
        suite.addTests(loader.discover(d, pattern='test_*.py', top_level_dir=os.path.dirname(top)))
    res = unittest.TextTestRunner(verbosity=2, stream=sys.stdout).run(suite)
    failed = len(res.failures) + len(res.errors) + len(res.unexpectedSuccesses)
    skipped = len(res.skipped)
    passed = res.testsRun - failed - skipped
    print('%d passed, %d failed, %d skipped' % (passed, failed, skipped))
    sys.exit(1 if failed or res.testsRun == 0 else 0)

if __name__ == '__main__':
    main()
