import sys

from rnntui.cli import main

sys.exit(main())
