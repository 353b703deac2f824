"""``python -m kdmath.experiments NAME [--config quick|medium|full]``: run one experiment, write its JSON."""

from __future__ import annotations

import argparse
import json

from . import EXPERIMENTS, run_experiment


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(prog="python -m kdmath.experiments", description=__doc__)
    parser.add_argument("name", choices=sorted(EXPERIMENTS) + ["list"], help="the experiment to run, or 'list'")
    parser.add_argument("--config", default="quick", choices=("quick", "medium", "long", "full"),
                        help="quick, medium, full; long for the experiments that have it (see list)")
    parser.add_argument("--data-dir", default=None, help="MNIST directory (default: $KDBOOK_MNIST_DIR or ../shared/data/mnist)")
    parser.add_argument("--device", default=None, help="cpu or cuda (default: cuda when available)")
    parser.add_argument("--out-dir", default="results", help="where the JSON result is written (default: results/)")
    parser.add_argument("--checkpoint-dir", default="_build/checkpoints", help="teachers and per-epoch checkpoints, for resuming")
    parser.add_argument("--seed", type=int, default=None,
                        help="run one replicate with this seed (teacher included), written to NAME-CONFIG-seedN.json")
    parser.add_argument("--no-progress", action="store_true", help="no progress bars")
    args = parser.parse_args(argv)
    if args.name == "list":
        for name, experiment in EXPERIMENTS.items():
            print(f"{name}: {experiment.description} [configurations: {', '.join(experiment.configs)}]")
        return
    record = run_experiment(args.name, args.config, data_dir=args.data_dir, device=args.device, out_dir=args.out_dir,
                            checkpoint_dir=args.checkpoint_dir, progress=not args.no_progress, seed=args.seed)
    summary = {key: value for key, value in record["results"].items() if key != "history"}
    print(json.dumps({"experiment": record["experiment"], "config": record["config_name"], "seconds": record["seconds"],
                      "results": summary}, indent=2))


if __name__ == "__main__":
    main()
