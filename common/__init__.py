"""The bottom layer: what every package of the bridge may import (the error taxonomy, process liveness),
importing none of them."""
