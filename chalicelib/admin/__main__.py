import sys

from chalicelib.admin.cli import main

sys.exit(main())
