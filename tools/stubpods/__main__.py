import sys

from stubpods.cli import main

sys.exit(main())
