import sys

from hallkiosk.cli import main

sys.exit(main())
