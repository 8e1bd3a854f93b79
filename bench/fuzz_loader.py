"""A deeper run of the model-file fuzzing in tests/test_store.py (the suite runs 200 examples per test).

    python bench/fuzz_loader.py [--examples 5000]

Every generated file must load as a model or be refused with a ModelFileError — never another exception.
"""
import argparse
import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--examples", type=int, default=5000)
    a = ap.parse_args()
    env = {**os.environ, "LSTM_LAB_FUZZ_EXAMPLES": str(a.examples)}
    cmd = [sys.executable, "-m", "pytest", "-q", "tests/test_store.py", "-k", "any_", "-p", "no:cacheprovider"]
    sys.exit(subprocess.call(cmd, cwd=ROOT, env=env))


if __name__ == "__main__":
    main()
