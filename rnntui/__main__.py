import sys

from rnntui.cli import main

if __name__ == "__main__":  # not when multiprocessing imports it in the training process
    sys.exit(main())
