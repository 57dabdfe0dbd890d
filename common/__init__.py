"""The bottom layer: what every package of the bridge may import (the error taxonomy), importing none of them."""
