"""``python -m kdmath.ledger [--run]``: print the claims ledger as JSON (``--run`` adds each check's finding)."""

import argparse
import json

from . import records


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m kdmath.ledger", description=__doc__)
    parser.add_argument("--run", action="store_true", help="run every check and include its finding")
    args = parser.parse_args()
    print(json.dumps(records(run_checks=args.run), indent=2, ensure_ascii=False))


if __name__ == "__main__":
    main()
