import sys

from async_search.dashboard.server import main

sys.exit(main())
